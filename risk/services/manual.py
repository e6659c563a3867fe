"""Manual actions: close a trade, close all of an instance, pause/resume, flatten an account; each audited.

One trade is closed by ``trading.services.trades.trade_close`` (re-exported here); scopes go through
``trade_close_manual`` (one market close order per trade, dispatched after commit).
Entry orders not sent yet are cancelled in the database; pending entries at the broker get a cancel order.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from risk.models import AuditAction
from risk.services.audit import audit_record
from trading.models import BrokerAccount, Order, OrderIntent, OrderStatus, StrategyInstance, Trade, TradeState
from trading.services.instances import instance_set_enabled
from trading.services.orders.dispatch import orders_dispatch_after_commit
from trading.services.trades import trade_close, trade_close_manual

User = AuthUser | AnonymousUser  # what request.user holds (AUTH_USER_MODEL is auth.User)


def close_scope(*, trades: QuerySet[Trade], orders: QuerySet[Order], user: User | None, reason: str) -> dict[str, Any]:
    """Close ``trades``, cancel the entry ``orders`` (unsent or pending); return what was done."""
    closed: dict[str, str] = {}
    for trade in trades.filter(state=TradeState.OPEN).order_by("pk"):
        order = trade_close_manual(trade, user=user)
        closed[str(trade.pk)] = order.client_order_id
    unsent = list(orders.filter(intent=OrderIntent.OPEN, status=OrderStatus.NEW).values_list("pk", flat=True))
    Order.objects.filter(pk__in=unsent, status=OrderStatus.NEW).update(
        status=OrderStatus.CANCELLED, reject_reason=reason[:200]
    )
    cancels: dict[str, str] = {}
    for pending in orders.filter(intent=OrderIntent.OPEN, status=OrderStatus.PENDING).select_related("account"):
        already = Order.objects.filter(
            target=pending, intent=OrderIntent.CANCEL, status__in=(OrderStatus.NEW, OrderStatus.SUBMITTING)
        ).first()
        cancel = already or Order.objects.create(
            client_order_id=f"mcx{pending.pk}-{time.time_ns() // 1_000_000}",
            account=pending.account,
            instance_id=pending.instance_id,
            instrument_id=pending.instrument_id,
            intent=OrderIntent.CANCEL,
            order_type=pending.order_type,
            side=pending.side,
            units=pending.units,
            target=pending,
            status=OrderStatus.NEW,
        )
        cancels[str(pending.pk)] = cancel.client_order_id
        orders_dispatch_after_commit(account=pending.account, instrument_id=pending.instrument_id)
    return {
        "reason": reason,
        "trades_closed": closed,
        "unsent_entries_cancelled": unsent,
        "pending_entries_cancelled": cancels,
    }


@transaction.atomic
def instance_close_all(
    *, instance: StrategyInstance, user: User | None, source: str, now: datetime | None = None
) -> dict[str, Any]:
    """Close every open trade of the instance and cancel its entry orders; the instance keeps running."""
    done = close_scope(
        trades=Trade.objects.filter(instance=instance),
        orders=Order.objects.filter(instance=instance),
        user=user,
        reason="close all of the instance",
    )
    audit_record(user=user, action=AuditAction.INSTANCE_CLOSE_ALL, obj=instance, source=source, details=done, now=now)
    return done


@transaction.atomic
def account_flatten(
    *, account: BrokerAccount, user: User | None, source: str, reason: str, now: datetime | None = None
) -> dict[str, Any]:
    """Close every open trade of the account (the platform's and others) and cancel its entry orders."""
    return close_scope(
        trades=Trade.objects.filter(account=account),
        orders=Order.objects.filter(account=account),
        user=user,
        reason=reason,
    )


@transaction.atomic
def account_close_all(*, account: BrokerAccount, user: User | None, source: str) -> dict[str, Any]:
    """Close every open trade of the account and cancel its entry orders, audited; instances keep running."""
    done = account_flatten(account=account, user=user, source=source, reason="close all of the account")
    audit_record(
        user=user, action=AuditAction.ACCOUNT_CLOSE_ALL, obj=account, source=source, details=done, account_id=account.pk
    )
    return done


@transaction.atomic
def instance_pause(*, instance: StrategyInstance, user: User | None, source: str) -> StrategyInstance:
    """Stop the instance's scheduled runs (disable it); its open trades stay as they are."""
    instance = instance_set_enabled(instance, False)
    audit_record(
        user=user,
        action=AuditAction.INSTANCE_PAUSE,
        obj=instance,
        source=source,
        details={"enabled": False, "at": timezone.now().isoformat()},
    )
    return instance


@transaction.atomic
def instance_resume(*, instance: StrategyInstance, user: User | None, source: str) -> StrategyInstance:
    instance = instance_set_enabled(instance, True)
    audit_record(user=user, action=AuditAction.INSTANCE_ENABLE, obj=instance, source=source, details={"enabled": True})
    return instance


__all__ = [
    "account_close_all",
    "account_flatten",
    "close_scope",
    "instance_close_all",
    "instance_pause",
    "instance_resume",
    "trade_close",
]
