"""Choice enums shared by models, services and the API (string values, except minutes)."""

from __future__ import annotations

from django.db import models


class Broker(models.TextChoices):
    PAPER = "paper", "Paper (simulated)"
    OANDA = "oanda", "OANDA v20"
    CTRADER = "ctrader", "cTrader Open API (Pepperstone, IC Markets, …)"


class BrokerEnvironment(models.TextChoices):
    PRACTICE = "practice", "Practice"
    LIVE = "live", "Live"


class Timeframe(models.IntegerChoices):
    """Bar length in minutes, the unit the framework ABI uses."""

    M1 = 1, "M1"
    M5 = 5, "M5"
    M15 = 15, "M15"
    M30 = 30, "M30"
    H1 = 60, "H1"
    H4 = 240, "H4"
    D1 = 1440, "D1"
    W1 = 10080, "W1"
    MN = 43200, "MN"


class OperationalMode(models.IntegerChoices):
    DISABLE = 0, "Disabled"
    ENABLE = 1, "Enabled"
    MONITOR = 2, "Monitor (no new entries)"


class Side(models.TextChoices):
    BUY = "buy", "Buy"
    SELL = "sell", "Sell"


class OrderIntent(models.TextChoices):
    OPEN = "open", "Open"
    CLOSE = "close", "Close trade"
    MODIFY = "modify", "Modify SL/TP"
    CANCEL = "cancel", "Cancel pending order"


class OrderType(models.TextChoices):
    MARKET = "market", "Market"
    LIMIT = "limit", "Limit"
    STOP = "stop", "Stop"


class OrderStatus(models.TextChoices):
    NEW = "new", "New (not sent)"
    SUBMITTING = "submitting", "Submitting"
    PENDING = "pending", "Pending at broker"
    FILLED = "filled", "Filled"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"
    REJECTED = "rejected", "Rejected"
    UNKNOWN = "unknown", "Unknown (being reconciled)"
    FAILED = "failed", "Failed (never sent)"


OPEN_ORDER_STATUSES = (OrderStatus.NEW, OrderStatus.SUBMITTING, OrderStatus.PENDING, OrderStatus.UNKNOWN)


class TradeState(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class CloseReason(models.TextChoices):
    STRATEGY = "strategy", "Strategy signal"
    STOP_LOSS = "stop_loss", "Stop loss"
    TAKE_PROFIT = "take_profit", "Take profit"
    TRAILING_STOP = "trailing_stop", "Trailing stop"
    MANUAL = "manual", "Manual"
    MARGIN_CLOSEOUT = "margin_closeout", "Margin closeout"
    FIFO = "fifo", "FIFO netting"
    BROKER = "broker", "Closed at broker"


class ExecutionStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCESS = "success", "Success"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"
    # The bar was never run (its task was lost, or its worker died) and is no longer current: the reason is
    # in ``error``. A late run would trade on a bar the market has moved past, so none is made.
    MISSED = "missed", "Missed"


FINAL_EXECUTION_STATUSES = (
    ExecutionStatus.SUCCESS,
    ExecutionStatus.SKIPPED,
    ExecutionStatus.FAILED,
    ExecutionStatus.MISSED,
)
