"""Constants and helpers shared by the fake's broker state and its views."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from brokers.oanda.timefmt import format_unix, parse_time

J = dict[str, Any]
MONEY = Decimal("0.0001")
ENTRY_TYPES = ("MARKET", "LIMIT", "STOP", "MARKET_IF_TOUCHED")
DEPENDENT_TYPES = ("TAKE_PROFIT", "STOP_LOSS", "TRAILING_STOP_LOSS")
ON_FILL_KEYS = {
    "takeProfitOnFill": "TAKE_PROFIT",
    "stopLossOnFill": "STOP_LOSS",
    "trailingStopLossOnFill": "TRAILING_STOP_LOSS",
}
TRADE_ORDER_KEYS = {"takeProfit": "TAKE_PROFIT", "stopLoss": "STOP_LOSS", "trailingStopLoss": "TRAILING_STOP_LOSS"}
TRADE_LINK = {
    "TAKE_PROFIT": "takeProfitOrderID",
    "STOP_LOSS": "stopLossOrderID",
    "TRAILING_STOP_LOSS": "trailingStopLossOrderID",
}
USER_ID = 1435156


class Reply(Exception):  # noqa: N818 - control flow, not an error
    """Raised inside the broker to answer with a status and body."""

    def __init__(self, status: int, body: J) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def money(value: Decimal) -> str:
    return f"{value.quantize(MONEY, rounding=ROUND_HALF_EVEN):f}"


def units_str(value: Decimal) -> str:
    return f"{value.normalize():f}" if value != 0 else "0"


def parse_dec(value: Any) -> Decimal | None:
    """A number from a request body, or None when missing or not a number (the caller rejects)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def places(value: Decimal) -> int:
    """Decimal places a number was written with (trailing zeros ignored), as OANDA's precision checks count."""
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


TIME_KEYS = frozenset(
    {
        "time",
        "createTime",
        "openTime",
        "closeTime",
        "filledTime",
        "cancelledTime",
        "gtdTime",
        "createdTime",
        "lastOrderFillTimestamp",
        "from",
        "to",
    }
)


def to_unix(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: to_unix(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [to_unix(v) for v in value]
    if key in TIME_KEYS and isinstance(value, str) and "T" in value:
        return format_unix(parse_time(value))
    return value
