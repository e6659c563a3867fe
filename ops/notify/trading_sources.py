"""Orders, trades and executions: the trading rows the notifier reads, and the event each change becomes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q

from ops.events import EventKind, NewEvent, Severity, clip
from ops.notify.outbox import Outbox, instance_label, normalized, number, timeframe_label
from ops.notify.tail import Tail, final_in
from trading.models import Execution, ExecutionStatus, Order, OrderIntent, OrderStatus, Trade, TradeState
from trading.models.enums import OPEN_ORDER_STATUSES, CloseReason

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
    who = f"{instance_label(row)} on {row['account__name']}"
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
                group=normalized(reason),
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
                group=normalized(reason),
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
                f"{sign}{number(pl)} {row['account__currency']} ({reason}, {instance_label(row)})"
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
    # Written by the sweeper for a bar close that never ran or whose run died (the reason in ``error``).
    ExecutionStatus.MISSED: (EventKind.BAR_CLOSE_MISSED, Severity.ERROR, "Bar close missed"),
}


def headline(error: str, symbol: str, timeframe: str) -> str:
    """What a burst of runs has in common, without the times and figures that differ between them."""
    text = error.strip()
    if text.startswith(("stale bars", "no complete bars")):
        return f"stale {symbol} {timeframe} data"
    if text.startswith("account sync or shared reads failed"):
        return "account sync failed: " + text.split(": ", 2)[1] if text.count(": ") >= 1 else text
    return normalized(text) or "no reason recorded"


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
            title=f"{verb}: {instance_label(row)} {symbol} {tf}: {clip(error, 140)}",
            body=f"Bar {bar:%Y-%m-%d %H:%M} UTC on {row['instance__account__name']}: {error}",
            group=headline(error, symbol, tf),
            account_ids=[row["instance__account_id"]],
            instance_id=row["instance_id"],
        )
    )
