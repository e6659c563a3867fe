"""Changing guard rails and market-hours policies (validated, audited)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.db import transaction
from django.utils import timezone

from risk.models import AuditAction, MarketHoursPolicy, RiskLimit
from risk.services.audit import audit_record
from trading.models import BrokerAccount, StrategyInstance

User = AuthUser | AnonymousUser  # what request.user holds (AUTH_USER_MODEL is auth.User)
LIMIT_FIELDS = (
    "max_drawdown_pct",
    "drawdown_action",
    "daily_loss_limit",
    "max_open_trades",
    "max_order_equity_ratio",
    "max_currency_exposure_ratio",
    "max_spread_points",
)


def _jsonable(value: Any) -> Any:
    return value if value is None or isinstance(value, bool | int | str) else str(value)


@transaction.atomic
def limit_set(
    *, account: BrokerAccount, instance: StrategyInstance | None, user: User | None, source: str, **fields: Any
) -> RiskLimit:
    """Create or change the limits of the account (``instance`` None) or of one of its instances."""
    unknown = set(fields) - set(LIMIT_FIELDS)
    if unknown:
        raise ValueError(f"limit fields that cannot be set: {', '.join(sorted(unknown))}")
    # order_by(): the default ordering joins the nullable instance, which FOR UPDATE refuses.
    limit = RiskLimit.objects.select_for_update().filter(account=account, instance=instance).order_by("pk").first()
    limit = limit or RiskLimit(account=account, instance=instance)
    for key, value in fields.items():
        setattr(limit, key, value)
    limit.full_clean(validate_unique=False, validate_constraints=False)
    limit.save()
    audit_record(
        user=user,
        action=AuditAction.LIMIT_CHANGE,
        obj=limit,
        source=source,
        details={k: _jsonable(v) for k, v in fields.items()},
    )
    return limit


@transaction.atomic
def limit_delete(*, limit: RiskLimit, user: User | None, source: str) -> None:
    audit_record(user=user, action=AuditAction.LIMIT_CHANGE, obj=limit, source=source, details={"deleted": True})
    limit.delete()


@transaction.atomic
def limit_reset_peak(*, limit: RiskLimit, user: User | None, source: str, now: datetime | None = None) -> RiskLimit:
    """Start the drawdown high-water mark afresh from now (after a close-everything, to trade again)."""
    now = now or timezone.now()
    old = limit.peak_equity
    RiskLimit.objects.filter(pk=limit.pk).update(peak_equity=None, peak_since=now)
    limit.refresh_from_db()
    audit_record(
        user=user,
        action=AuditAction.PEAK_RESET,
        obj=limit,
        source=source,
        details={"old_peak": _jsonable(old), "since": now.isoformat()},
        now=now,
    )
    return limit


@transaction.atomic
def market_hours_set(
    *,
    account: BrokerAccount,
    user: User | None,
    source: str,
    when_closed: str | None = None,
    oanda_daily_break: bool | None = None,
) -> MarketHoursPolicy:
    policy, _ = MarketHoursPolicy.objects.select_for_update().get_or_create(account=account)
    changes: dict[str, Any] = {}
    if when_closed is not None:
        policy.when_closed = changes["when_closed"] = when_closed
    if oanda_daily_break is not None:
        policy.oanda_daily_break = changes["oanda_daily_break"] = oanda_daily_break
    policy.full_clean(validate_unique=False)
    policy.save()
    audit_record(user=user, action=AuditAction.MARKET_HOURS_CHANGE, obj=policy, source=source, details=changes)
    return policy
