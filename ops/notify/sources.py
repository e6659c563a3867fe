"""What the notifier reads from the trading tables, and the event each change becomes.

One ``Tail`` per table (orders, trades, executions, guard-rail blocks, the audit log, discrepancies); each row
that reaches a final state becomes at most one event and advances the row counters of ``/metrics``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q

from ops.events import EventKind, NewEvent, Severity, clip
from ops.notify.tail import Tail, always_final, final_in
from risk.models import AuditAction, AuditLogEntry, BlockedSignal, BlockRule
from trading.models import (
    Execution,
    ExecutionStatus,
    Order,
    OrderIntent,
    OrderStatus,
    Timeframe,
    Trade,
    TradeState,
)
from trading.models.enums import OPEN_ORDER_STATUSES, CloseReason
from trading.models.reconciliation import Discrepancy, DiscrepancyKind

# Written by the fault-tolerance work for a bar close that never ran (status "missed", reason in ``error``).
EXECUTION_MISSED = getattr(ExecutionStatus, "MISSED", "missed")


@dataclass
class Outbox:
    """What a pass found: events, and row counts for /metrics (applied only once the pass has committed)."""

    events: list[NewEvent] = field(default_factory=list)
    counts: Counter[tuple[str, tuple[str, ...]]] = field(default_factory=Counter)

    def emit(self, event: NewEvent) -> None:
        self.events.append(event)

    def count(self, metric: str, *labels: str) -> None:
        self.counts[(metric, labels)] += 1

    def counts_apply(self) -> None:
        from ops.metrics import registry

        metrics = {"orders": registry.ORDERS, "executions": registry.EXECUTIONS, "blocks": registry.SIGNALS_BLOCKED}
        for (metric, labels), amount in self.counts.items():
            metrics[metric].labels(*labels).inc(amount)
        self.counts.clear()


def number(value: Decimal | float | int | None) -> str:
    if value is None:
        return "?"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def timeframe_label(minutes: int | None) -> str:
    return Timeframe(minutes).label if minutes in Timeframe.values else f"{minutes}m"


def _instance(row: dict[str, Any], prefix: str = "instance__") -> str:
    if row.get(f"{prefix}name") is None and row.get("instance_id") is None:
        return "no instance"
    return f"{row.get(f'{prefix}name') or 'instance'} (#{row['instance_id']})"


# --- orders ---------------------------------------------------------------------------------------------
ORDER_FINAL = [s for s in OrderStatus.values if s not in OPEN_ORDER_STATUSES]
ORDERS = Tail(
    name="orders",
    model=Order,
    fields=(
        "status",
        "intent",
        "order_type",
        "side",
        "units",
        "fill_price",
        "reject_reason",
        "netting",
        "account_id",
        "account__name",
        "account__broker",
        "instance_id",
        "instance__name",
        "instrument__symbol",
        "created_at",
        "submitted_at",
    ),  # fmt: skip
    is_final=final_in(ORDER_FINAL),
    unsettled=Q(status__in=OPEN_ORDER_STATUSES),
)


def order_event(row: dict[str, Any], out: Outbox) -> None:
    out.count("orders", row["status"], row["account__broker"])
    what = f"{row['side'].upper()} {number(row['units'])} {row['instrument__symbol']}"
    who = f"{_instance(row)} on {row['account__name']}"
    reason = row["reject_reason"] or "no reason given"
    status, pk = row["status"], row["pk"]
    scope: dict[str, Any] = {
        "account_ids": [row["account_id"]],
        "instance_id": row["instance_id"],
        "key": f"order:{pk}:{status}",
    }
    if status == OrderStatus.FILLED and row["intent"] == OrderIntent.OPEN and not row["netting"]:
        out.emit(
            NewEvent(
                kind=EventKind.ORDER_FILLED,
                title=f"Filled: {what} @ {number(row['fill_price'])} ({who})",
                body=f"Order {pk} ({row['order_type']}) filled at {number(row['fill_price'])}.",
                group=row["account__name"],
                **scope,
            )
        )
    elif status == OrderStatus.REJECTED:
        out.emit(
            NewEvent(
                kind=EventKind.ORDER_REJECTED,
                severity=Severity.WARNING,
                title=f"Rejected: {row['intent']} {what} ({who}): {clip(reason, 120)}",
                body=f"Order {pk} was refused by the broker: {reason}",
                group=_normalized(reason),
                **scope,
            )
        )
    elif status == OrderStatus.FAILED or (status == OrderStatus.CANCELLED and reason.startswith("not ")):
        # FAILED: dispatch gave up; a CANCELLED "not sent / not placed …": it never reached the market.
        out.emit(
            NewEvent(
                kind=EventKind.ORDER_FAILED,
                severity=Severity.ERROR,
                title=f"Not sent: {row['intent']} {what} ({who}): {clip(reason, 120)}",
                body=f"Order {pk} ended {status}: {reason}",
                group=_normalized(reason),
                **scope,
            )
        )


# --- trades ---------------------------------------------------------------------------------------------
TRADES = Tail(
    name="trades",
    model=Trade,
    fields=(
        "state",
        "side",
        "initial_units",
        "open_price",
        "close_price",
        "realized_pl",
        "financing",
        "commission",
        "close_reason",
        "netting",
        "account_id",
        "account__name",
        "account__currency",
        "instance_id",
        "instance__name",
        "instrument__symbol",
    ),  # fmt: skip
    is_final=final_in([TradeState.CLOSED], field="state"),
    unsettled=Q(state=TradeState.OPEN),
)


def trade_event(row: dict[str, Any], out: Outbox) -> None:
    if row["netting"]:  # a virtual-mode netting trade: the instances' virtual trades carry the story
        return
    reason = CloseReason(row["close_reason"]).label if row["close_reason"] in CloseReason.values else "closed"
    pl = (row["realized_pl"] or Decimal(0)) + (row["financing"] or Decimal(0)) - (row["commission"] or Decimal(0))
    sign = "+" if pl >= 0 else ""
    out.emit(
        NewEvent(
            key=f"trade:{row['pk']}:closed",
            kind=EventKind.TRADE_CLOSED,
            title=(
                f"Closed: {row['side'].upper()} {number(row['initial_units'])} {row['instrument__symbol']} "
                f"{sign}{number(pl)} {row['account__currency']} ({reason}, {_instance(row)})"
            ),
            body=(
                f"Trade {row['pk']} on {row['account__name']}: opened at {number(row['open_price'])}, closed at "
                f"{number(row['close_price'])}; realized {number(row['realized_pl'])}, financing "
                f"{number(row['financing'])}, commission {number(row['commission'])}."
            ),
            group=row["account__name"],
            account_ids=[row["account_id"]],
            instance_id=row["instance_id"],
        )
    )


# --- executions -----------------------------------------------------------------------------------------
EXECUTIONS = Tail(
    name="executions",
    model=Execution,
    fields=(
        "status",
        "error",
        "bar_time",
        "instance_id",
        "instance__name",
        "instance__account_id",
        "instance__account__name",
        "instance__instrument__symbol",
        "instance__timeframe",
    ),  # fmt: skip
    is_final=lambda row: row["status"] != ExecutionStatus.RUNNING,
    unsettled=Q(status=ExecutionStatus.RUNNING),
)
_EXECUTION_KINDS = {
    ExecutionStatus.FAILED: (EventKind.EXECUTION_FAILED, Severity.ERROR, "Run failed"),
    ExecutionStatus.SKIPPED: (EventKind.EXECUTION_SKIPPED, Severity.WARNING, "Run skipped"),
    EXECUTION_MISSED: (EventKind.BAR_CLOSE_MISSED, Severity.ERROR, "Bar close missed"),
}


def headline(error: str, symbol: str, timeframe: str) -> str:
    """What a burst of runs has in common, without the times and figures that differ between them."""
    text = error.strip()
    if text.startswith(("stale bars", "no complete bars")):
        return f"stale {symbol} {timeframe} data"
    if text.startswith("account sync or shared reads failed"):
        return "account sync failed: " + text.split(": ", 2)[1] if text.count(": ") >= 1 else text
    return _normalized(text) or "no reason recorded"


def _normalized(text: str) -> str:
    text = re.sub(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d)?(\.\d+)?([+-]\d\d:\d\d| UTC)?", "<time>", text)
    return clip(re.sub(r"\d+(\.\d+)?", "#", text), 120)


def execution_event(row: dict[str, Any], out: Outbox) -> None:
    out.count("executions", row["status"])
    found = _EXECUTION_KINDS.get(row["status"])
    if found is None:
        return
    kind, severity, verb = found
    symbol, tf = row["instance__instrument__symbol"], timeframe_label(row["instance__timeframe"])
    error = row["error"] or "no reason recorded"
    bar: datetime = row["bar_time"]
    out.emit(
        NewEvent(
            key=f"execution:{row['pk']}:{row['status']}",
            kind=kind,
            severity=severity,
            title=f"{verb}: {_instance(row)} {symbol} {tf}: {clip(error, 140)}",
            body=f"Bar {bar:%Y-%m-%d %H:%M} UTC on {row['instance__account__name']}: {error}",
            group=headline(error, symbol, tf),
            account_ids=[row["instance__account_id"]],
            instance_id=row["instance_id"],
        )
    )


# --- guard rails, kill switch, audit, reconciliation ------------------------------------------------------------
BLOCKS = Tail(
    name="blocks",
    model=BlockedSignal,
    fields=(
        "rule",
        "outcome",
        "intent",
        "values",
        "account_id",
        "account__name",
        "instance_id",
        "instance__name",
        "instance__instrument__symbol",
    ),  # fmt: skip
    is_final=always_final,
)


def block_event(row: dict[str, Any], out: Outbox) -> None:
    out.count("blocks", row["rule"], row["outcome"])
    rule = BlockRule(row["rule"]).label if row["rule"] in BlockRule.values else row["rule"]
    intent = row["intent"] or {}
    what = (
        f"{str(intent.get('side', '')).upper()} {intent.get('units', '')} {row['instance__instrument__symbol'] or ''}"
    )
    values = ", ".join(f"{k} {v}" for k, v in (row["values"] or {}).items())
    out.emit(
        NewEvent(
            key=f"block:{row['pk']}",
            kind=EventKind.GUARD_RAIL,
            severity=Severity.WARNING,
            title=f"Blocked by {rule.lower()} ({row['outcome']}): {what.strip()} ({_instance(row)})",
            body=f"On {row['account__name']}: {values or 'no figures recorded'}.",
            group=f"{rule.lower()} on {row['account__name']}",
            account_ids=[row["account_id"]],
            instance_id=row["instance_id"],
        )
    )


AUDIT = Tail(
    name="audit",
    model=AuditLogEntry,
    fields=("action", "username", "source", "account_id", "account__name", "object_repr", "details"),
    is_final=always_final,
)


def audit_event(row: dict[str, Any], out: Outbox) -> None:
    action, details = row["action"], row["details"] or {}
    scope = f"account {row['account__name']}" if row["account_id"] else "every account (global switch)"
    who = row["username"] or "the platform"
    common: dict[str, Any] = {
        "key": f"audit:{row['pk']}",
        "account_ids": [row["account_id"]] if row["account_id"] else None,
    }
    if action == AuditAction.KILL_SWITCH_ENGAGE:
        flatten = " and flattened every position" if details.get("flatten") else ""
        out.emit(
            NewEvent(
                kind=EventKind.KILL_SWITCH,
                severity=Severity.ERROR,
                title=f"Kill switch ENGAGED on {scope}{flatten}",
                body=f"By {who} ({row['source']}). Reason: {details.get('reason') or 'none given'}. "
                "No opening order is written or sent until it is released; exits still go.",
                **common,
            )
        )
    elif action == AuditAction.KILL_SWITCH_RELEASE:
        out.emit(
            NewEvent(
                kind=EventKind.KILL_SWITCH,
                severity=Severity.SUCCESS,
                title=f"Kill switch released on {scope}",
                body=f"By {who} ({row['source']}). New entries are allowed again.",
                **common,
            )
        )
    elif action == AuditAction.DRAWDOWN_CLOSE_ALL:
        out.emit(
            NewEvent(
                kind=EventKind.DRAWDOWN,
                severity=Severity.ERROR,
                title=f"Drawdown limit closed everything: {row['object_repr']} at {details.get('drawdown_pct', '?')}%",
                body=f"Peak {details.get('peak', '?')}, now {details.get('current', '?')}. {details}",
                **common,
            )
        )


DISCREPANCIES = Tail(
    name="discrepancies",
    model=Discrepancy,
    fields=("kind", "symbol", "side", "broker_units", "db_units", "detail", "account_id", "account__name"),
    is_final=always_final,
)


def discrepancy_event(row: dict[str, Any], out: Outbox) -> None:
    kind = DiscrepancyKind(row["kind"]).label if row["kind"] in DiscrepancyKind.values else row["kind"]
    units = f" broker {number(row['broker_units'])} / ours {number(row['db_units'])}"
    out.emit(
        NewEvent(
            key=f"discrepancy:{row['pk']}",
            kind=EventKind.DISCREPANCY,
            severity=Severity.WARNING,
            title=f"Reconciliation on {row['account__name']}: {kind} {row['symbol']}".strip(),
            body=f"{kind}:{units}. {row['detail']} Resolve it in the admin's Discrepancies page "
            "(adopt, close or ignore).",
            group=kind,
            account_ids=[row["account_id"]],
        )
    )


SOURCES: list[tuple[Tail, Callable[[dict[str, Any], Outbox], None]]] = [
    (ORDERS, order_event),
    (TRADES, trade_event),
    (EXECUTIONS, execution_event),
    (BLOCKS, block_event),
    (AUDIT, audit_event),
    (DISCREPANCIES, discrepancy_event),
]
