"""The events a trader can be told about: their kinds, how bad each is, and how a burst of one is named."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models


class EventKind(models.TextChoices):
    ORDER_FILLED = "order_filled", "Order filled"
    ORDER_REJECTED = "order_rejected", "Order rejected by the broker"
    ORDER_FAILED = "order_failed", "Order failed or never sent"
    ORDER_UNKNOWN = "order_unknown", "Order outcome unknown for too long"
    TRADE_CLOSED = "trade_closed", "Trade closed (P/L and reason)"
    EXECUTION_FAILED = "execution_failed", "Strategy run failed"
    EXECUTION_SKIPPED = "execution_skipped", "Strategy run skipped (stale data, no price, …)"
    BAR_CLOSE_MISSED = "bar_close_missed", "Bar close missed"
    GUARD_RAIL = "guard_rail", "Guard rail blocked a signal"
    KILL_SWITCH = "kill_switch", "Kill switch engaged or released"
    DRAWDOWN = "drawdown", "Drawdown threshold crossed"
    PRICE_STREAM = "price_stream", "Price stream stalled or recovered"
    DISCREPANCY = "discrepancy", "Reconciliation found a difference"
    PROCESS = "process", "Worker or beat down or back"
    QUEUE_BACKLOG = "queue_backlog", "Queue backing up"
    DAILY_SUMMARY = "daily_summary", "Daily summary"
    TEST = "test", "Test message"


# What a burst of several events of one kind is called: "37 executions skipped: stale EURUSD H1 data".
PLURAL: dict[str, str] = {
    EventKind.ORDER_FILLED: "orders filled",
    EventKind.ORDER_REJECTED: "orders rejected",
    EventKind.ORDER_FAILED: "orders not sent",
    EventKind.TRADE_CLOSED: "trades closed",
    EventKind.EXECUTION_FAILED: "executions failed",
    EventKind.EXECUTION_SKIPPED: "executions skipped",
    EventKind.BAR_CLOSE_MISSED: "bar closes missed",
    EventKind.GUARD_RAIL: "signals blocked",
    EventKind.DISCREPANCY: "discrepancies found",
}

# Kinds a new channel subscribes to: everything but the test message, which is always delivered.
DEFAULT_KINDS = [kind.value for kind in EventKind if kind != EventKind.TEST]


class Severity(models.TextChoices):
    INFO = "info", "Information"
    SUCCESS = "success", "Back to normal"
    WARNING = "warning", "Warning"
    ERROR = "error", "Needs action"


@dataclass
class NewEvent:
    """An event found by a pass, before it is stored. ``key`` makes it unique: a key seen before is dropped.

    ``account_ids`` scopes it to the channels of those accounts; None means every account (beat down).
    Events of one kind with the same ``group`` that reach a channel together are sent as one message.
    """

    key: str
    kind: str
    title: str
    body: str = ""
    severity: str = Severity.INFO
    group: str = ""
    account_ids: list[int] | None = field(default=None)
    instance_id: int | None = None


def clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"
