"""Watched trading state: price streams older than their bound, orders UNKNOWN too long, drawdown thresholds."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db.models import Max

from ops.events import EventKind, NewEvent, Severity
from ops.notify.record import Check
from risk.models import RiskLimit
from trading.models import AccountSnapshot, BrokerAccount, OrderStatus
from trading.venues import venue_class, venue_for

ALERT_SHARE_OF_LIMIT = Decimal("0.8")


def stream_statuses(now: datetime) -> dict[tuple[str, str], tuple[dict[str, Any], list[int]]]:
    """{(broker kind, stream name): (its status, the accounts relying on it)} for every account whose venue
    streams prices (OANDA: one stream per environment; cTrader: one per account)."""
    out: dict[tuple[str, str], tuple[dict[str, Any], list[int]]] = {}
    for account in BrokerAccount.objects.filter(enabled=True).order_by("pk"):
        caps = venue_class(account.broker).capabilities
        if not caps.streaming_prices or (caps.needs_token and not account.has_token):
            continue
        status = venue_for(account).price_stream_status(now)
        if status is None:
            continue
        key = (account.broker, str(status.get("stream", "")))
        out.setdefault(key, (status, []))[1].append(account.pk)
    return out


def stream_checks(statuses: dict[tuple[str, str], tuple[dict[str, Any], list[int]]]) -> list[Check]:
    checks = []
    for (kind, stream), (status, accounts) in statuses.items():
        age = status.get("age")
        heard = f"last message {age:.0f} s ago" if age is not None else "never heard from"
        detail = f"{status.get('state') or 'not running'}, {heard}"
        label = f"{venue_class(kind).label} price stream ({stream})"
        scope: dict[str, Any] = {"account_ids": accounts}
        checks.append(
            Check(
                key=f"stream:{kind}:{stream}",
                kind=EventKind.PRICE_STREAM,
                bad=not status.get("fresh"),
                detail=detail,
                bad_event=NewEvent(
                    key="",
                    kind=EventKind.PRICE_STREAM,
                    severity=Severity.WARNING,
                    title=f"{label} stalled: {detail}",
                    body="Runs take a REST snapshot of the price instead (slower). Check the price_stream process.",
                    **scope,
                ),
                good_event=NewEvent(
                    key="", kind=EventKind.PRICE_STREAM, severity=Severity.SUCCESS, title=f"{label} recovered", **scope
                ),
            )
        )
    return checks


def unknown_order_checks(open_orders: list[dict[str, Any]], accounts: dict[int, str], now: datetime) -> list[Check]:
    """One check per account: orders whose outcome stayed unknown longer than OPS_ORDER_UNKNOWN_SECONDS."""
    bound = settings.OPS_ORDER_UNKNOWN_SECONDS
    late: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for row in open_orders:
        if row["status"] != OrderStatus.UNKNOWN:
            continue
        age = (now - (row["submitted_at"] or row["created_at"])).total_seconds()
        if age > bound:
            late[row["account_id"]].append((row["pk"], age))
    checks = []
    for account_id, name in accounts.items():
        orders = late.get(account_id, [])
        ids = ", ".join(str(pk) for pk, _ in orders[:10])
        oldest = max((age for _, age in orders), default=0)
        detail = f"{len(orders)} orders unknown for over {bound} s (oldest {oldest:.0f} s): {ids}" if orders else "none"
        checks.append(
            Check(
                key=f"unknown:{account_id}",
                kind=EventKind.ORDER_UNKNOWN,
                bad=bool(orders),
                detail=detail,
                bad_event=NewEvent(
                    key="",
                    kind=EventKind.ORDER_UNKNOWN,
                    severity=Severity.ERROR,
                    title=f"{name}: {detail}",
                    body="Their answer was lost; the resolver looks them up and never resends blindly. If it cannot "
                    "settle them, check the broker and reconcile (admin Discrepancies).",
                    account_ids=[account_id],
                ),
                good_event=NewEvent(
                    key="",
                    kind=EventKind.ORDER_UNKNOWN,
                    severity=Severity.SUCCESS,
                    title=f"{name}: no order left unknown",
                    account_ids=[account_id],
                ),
            )
        )
    return checks


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


def high_water_marks(accounts: list[BrokerAccount], stored: dict[str, str]) -> dict[str, str]:
    """Equity high-water mark per account, kept from pass to pass (seeded once from the snapshots)."""
    limits = dict(
        RiskLimit.objects.filter(instance__isnull=True, account__in=accounts).values_list("account_id", "peak_equity")
    )
    out = {}
    for account in accounts:
        candidates = [account.equity, _decimal(stored.get(str(account.pk))), limits.get(account.pk)]
        if str(account.pk) not in stored:
            candidates.append(AccountSnapshot.objects.filter(account=account).aggregate(m=Max("equity"))["m"])
        out[str(account.pk)] = str(max(c for c in candidates if c is not None))
    return out


def drawdown_pct(equity: Decimal, peak: Decimal) -> Decimal:
    return (peak - equity) / peak * 100 if peak > 0 and equity < peak else Decimal(0)


def drawdown_checks(accounts: list[BrokerAccount], marks: dict[str, str]) -> list[Check]:
    """Per account: one check per alert level (80 % of its drawdown limit and the limit, or the default level)."""
    limits = dict(
        RiskLimit.objects.filter(
            instance__isnull=True, account__in=accounts, max_drawdown_pct__isnull=False
        ).values_list("account_id", "max_drawdown_pct")
    )
    checks = []
    for account in accounts:
        peak = Decimal(marks[str(account.pk)])
        pct = drawdown_pct(account.equity, peak)
        limit = limits.get(account.pk)
        levels = [limit * ALERT_SHARE_OF_LIMIT, limit] if limit else [Decimal(settings.OPS_DRAWDOWN_ALERT_PCT)]
        for index, raw_level in enumerate(levels):
            level = raw_level.quantize(Decimal("0.01"))
            what = "the drawdown limit" if limit and index == 1 else "the alert level"
            detail = f"{pct:.2f}% below the high-water mark {peak:.2f} {account.currency} ({what} is {level}%)"
            scope: dict[str, Any] = {"account_ids": [account.pk]}
            recovered = NewEvent(
                key="",
                kind=EventKind.DRAWDOWN,
                severity=Severity.SUCCESS,
                title=f"Drawdown on {account.name} back under {level}%",
                **scope,
            )
            checks.append(
                Check(
                    key=f"drawdown:{account.pk}:{level}",
                    kind=EventKind.DRAWDOWN,
                    bad=pct >= level,
                    detail=detail,
                    bad_event=NewEvent(
                        key="",
                        kind=EventKind.DRAWDOWN,
                        severity=Severity.ERROR if index else Severity.WARNING,
                        title=f"Drawdown on {account.name}: {detail}",
                        **scope,
                    ),
                    good_event=None if index else recovered,  # one "back under" message, for the first level
                )
            )
    return checks
