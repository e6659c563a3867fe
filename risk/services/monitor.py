"""The periodic drawdown check: a limit set to "close everything" flattens its scope once it trips."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from risk.models import AuditAction, DrawdownAction, RiskLimit
from risk.services import figures
from risk.services.audit import audit_record
from risk.services.manual import close_scope
from trading.models import BrokerAccount, Order, OrderIntent, OrderStatus, Trade, TradeState


def _has_exposure(limit: RiskLimit) -> bool:
    scope = Q(instance=limit.instance) if limit.instance_id else Q(account=limit.account)
    return (
        Trade.objects.filter(scope, state=TradeState.OPEN).exists()
        or Order.objects.filter(
            scope, intent=OrderIntent.OPEN, status__in=(OrderStatus.NEW, OrderStatus.PENDING)
        ).exists()
    )


def limits_enforce(*, now: datetime | None = None) -> list[int]:
    """Flatten every scope whose drawdown reached a "close everything" limit; returns those limits' ids."""
    now = now or timezone.now()
    tripped: list[int] = []
    limits = (
        RiskLimit.objects.filter(
            max_drawdown_pct__isnull=False, drawdown_action=DrawdownAction.CLOSE_ALL, account__enabled=True
        )
        .select_related("instance")
        .order_by("pk")
    )
    for limit in limits:
        account = BrokerAccount.objects.get(pk=limit.account_id)
        pct, peak, current = figures.drawdown(limit, account)
        assert limit.max_drawdown_pct is not None
        if pct < limit.max_drawdown_pct or not _has_exposure(limit):
            continue
        with transaction.atomic():
            scope = Q(instance=limit.instance) if limit.instance_id else Q(account=account)
            done = close_scope(
                trades=Trade.objects.filter(scope),
                orders=Order.objects.filter(scope),
                user=None,
                reason=f"drawdown {pct.quantize(Decimal('0.01'))}% reached the {limit.max_drawdown_pct}% limit",
            )
            audit_record(
                user=None,
                action=AuditAction.DRAWDOWN_CLOSE_ALL,
                obj=limit,
                source="system",
                now=now,
                account_id=account.pk,
                details={**done, "drawdown_pct": str(pct), "peak": str(peak), "current": str(current)},
            )
        tripped.append(limit.pk)
    return tripped
