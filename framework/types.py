"""Typed values exchanged with the strategy framework, and the numpy layouts of its structs."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

# CRates: open, high, low, close, volume (float64) at 0..32, time (int32) at 40, 48 bytes.
CRATES_DTYPE = np.dtype(
    {
        "names": ["open", "high", "low", "close", "volume", "time"],
        "formats": ["<f8", "<f8", "<f8", "<f8", "<f8", "<i4"],
        "offsets": [0, 8, 16, 24, 32, 40],
        "itemsize": 48,
    }
)

ORDER_INFO_FIELDS = (
    "ticket",
    "instanceId",
    "type",
    "openTime",
    "closeTime",
    "stopLoss",
    "takeProfit",
    "expiriation",
    "openPrice",
    "closePrice",
    "lots",
    "profit",
    "commission",
    "swap",
    "isOpen",
)
# COrderInfo: 15 doubles, 120 bytes.
ORDER_INFO_DTYPE = np.dtype([(name, "<f8") for name in ORDER_INFO_FIELDS])

RATES_INFO_FIELDS = (
    "isEnabled",
    "requiredTimeframe",
    "totalBarsRequired",
    "actualTimeframe",
    "ratesArraySize",
    "point",
    "digits",
)
# CRatesInfo: 7 doubles, 56 bytes.
RATES_INFO_DTYPE = np.dtype([(name, "<f8") for name in RATES_INFO_FIELDS])

RESULT_FIELDS = (
    "ticketNumber",
    "tradingSignals",
    "lots",
    "entryPrice",
    "brokerSL",
    "brokerTP",
    "internalSL",
    "internalTP",
    "useTrailingSL",
    "expirationTime",
)
# StrategyResults: 10 doubles, 80 bytes.
RESULT_DTYPE = np.dtype([(name, "<f8") for name in RESULT_FIELDS])

RATES_SLOTS = 10
SETTINGS_COUNT = 64
ACCOUNT_INFO_COUNT = 10
BID_ASK_COUNT = 6
INT32_MAX = 2**31 - 1


class OrderType(enum.IntEnum):
    """Order types of the ABI."""

    BUY = 0
    SELL = 1
    BUYLIMIT = 2
    SELLLIMIT = 3
    BUYSTOP = 4
    SELLSTOP = 5

    @property
    def is_buy(self) -> bool:
        """Return True for the buy side (BUY, BUYLIMIT, BUYSTOP)."""
        return self.value % 2 == 0

    @property
    def is_pending(self) -> bool:
        """Return True for limit and stop orders."""
        return self.value >= 2


class SignalAction(enum.Enum):
    """What a result row asks the platform to do."""

    OPEN = "open"
    CLOSE = "close"
    UPDATE = "update"


class OperationalMode(enum.IntEnum):
    """OPERATIONAL_MODE: disabled, trading, or monitor (no new entries, exits still run)."""

    DISABLE = 0
    ENABLE = 1
    MONITOR = 2


ALL_ORDER_TICKETS = -1


def signal_bit(action: SignalAction, order_type: OrderType) -> int:
    """Return the trading-signal bit for one action on one order type."""
    base = (0x1, 0x8, 0x40)[order_type // 2]
    shift = {SignalAction.OPEN: 0, SignalAction.CLOSE: 1, SignalAction.UPDATE: 2}[action]
    bit = base << shift
    return bit << 16 if order_type % 2 else bit


SIGNAL_BITS: dict[int, tuple[SignalAction, OrderType]] = {
    signal_bit(action, order_type): (action, order_type) for action in SignalAction for order_type in OrderType
}


@dataclass(frozen=True, slots=True)
class OrderSignal:
    """One action from a result row.

    Distances are in price units. For OPEN, entry_price is the ask (buy) / bid (sell)
    for market orders, the trigger price for pending ones, and SL/TP are measured from
    it. For UPDATE of a market order the new stop is ask - sl_distance (buy) or
    bid + sl_distance (sell), as the legacy front ends do; 0 leaves that side alone.
    ticket is -1 for "all orders of this type" and 0 for opens.
    """

    action: SignalAction
    order_type: OrderType
    ticket: int
    lots: float
    entry_price: float
    sl_distance: float
    tp_distance: float
    internal_sl: float
    internal_tp: float
    trailing: bool
    expiration: int


# Why an action was not written into a result row (ASK_DROP_* of asirikuy_framework.h).
DROP_REASONS: dict[int, tuple[str, str]] = {
    1: ("rows_full", "every one of the MAX_OPEN_ORDERS result rows was taken"),
    2: ("max_open_orders", "MAX_OPEN_ORDERS open orders already"),
    3: ("monitor_mode", "OPERATIONAL_MODE is monitor: no new entries"),
    4: ("spread", "the spread is above MAX_SPREAD"),
    5: ("drawdown", "the drawdown is at or above MAX_DRAWDOWN_PERCENT"),
    6: ("no_size", "no stop distance and no ATR (or no equity) to size the lots"),
}
DROP_CODES = {name: code for code, (name, _) in DROP_REASONS.items()}


@dataclass(frozen=True, slots=True)
class DroppedSignal:
    """An action a strategy asked for on this call that was not emitted, and why (reason: a DROP_REASONS name)."""

    action: SignalAction
    order_type: OrderType
    reason: str

    def describe(self) -> str:
        """One line for the execution's record, e.g. ``open BUY dropped: every one of the ... rows was taken``."""
        text = DROP_REASONS.get(DROP_CODES.get(self.reason, 0), (self.reason, "reason not documented"))[1]
        return f"{self.action.value} {self.order_type.name} dropped ({self.reason}): {text}"


def dropped_from_code(bit: int, reason: int) -> DroppedSignal:
    """The DroppedSignal of one (signal bit, reason code) pair reported by the library."""
    action, order_type = SIGNAL_BITS[bit]
    name = DROP_REASONS.get(reason, (f"code_{reason}", ""))[0]
    return DroppedSignal(action, order_type, name)


@dataclass(frozen=True, slots=True)
class OrderInfo:
    """An open (or recently closed) order of the instance, mirroring COrderInfo."""

    ticket: int
    instance_id: int
    order_type: OrderType
    open_time: int
    close_time: int = 0
    stop_loss: float = 0.0
    take_profit: float = 0.0
    expiration: int = 0
    open_price: float = 0.0
    close_price: float = 0.0
    lots: float = 0.0
    profit: float = 0.0
    commission: float = 0.0
    swap: float = 0.0
    is_open: bool = True

    def as_row(self) -> tuple[float, ...]:
        """Return the 15 doubles of COrderInfo in field order."""
        return (
            float(self.ticket),
            float(self.instance_id),
            float(int(self.order_type)),
            float(self.open_time),
            float(self.close_time),
            float(self.stop_loss),
            float(self.take_profit),
            float(self.expiration),
            float(self.open_price),
            float(self.close_price),
            float(self.lots),
            float(self.profit),
            float(self.commission),
            float(self.swap),
            1.0 if self.is_open else 0.0,
        )


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """The account values the framework reads (double[10])."""

    account_number: int
    balance: float
    equity: float
    margin: float
    leverage: float
    contract_size: float
    minimum_stop: float
    stopout_percent: float
    total_open_trade_risk_percent: float = 0.0
    largest_drawdown_percent: float = 0.0

    def as_row(self) -> tuple[float, ...]:
        """Return the 10 doubles in ABI order."""
        return (
            float(self.account_number),
            float(self.balance),
            float(self.equity),
            float(self.margin),
            float(self.leverage),
            float(self.contract_size),
            float(self.minimum_stop),
            float(self.stopout_percent),
            float(self.total_open_trade_risk_percent),
            float(self.largest_drawdown_percent),
        )


@dataclass(frozen=True, slots=True)
class BidAsk:
    """Current prices (double[6]).

    quote_conversion_* is the value of one unit of the quote currency in the account
    currency (1.0 when they are the same); our library sizes with the larger of the two.
    """

    bid: float
    ask: float
    base_conversion_bid: float = 1.0
    base_conversion_ask: float = 1.0
    quote_conversion_bid: float = 1.0
    quote_conversion_ask: float = 1.0

    def as_row(self) -> tuple[float, ...]:
        """Return the 6 doubles in ABI order."""
        return (
            float(self.bid),
            float(self.ask),
            float(self.base_conversion_bid),
            float(self.base_conversion_ask),
            float(self.quote_conversion_bid),
            float(self.quote_conversion_ask),
        )


@dataclass(frozen=True, slots=True)
class RatesSlot:
    """Bars for one rates slot: oldest first, the last element is the current forming bar."""

    rates: np.ndarray
    required_timeframe: int
    total_bars_required: int
    actual_timeframe: int
    point: float = 1e-5
    digits: int = 5


def bars_from_arrays(
    *,
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    time: np.ndarray,
    volume: np.ndarray | None = None,
) -> np.ndarray:
    """Build a CRATES_DTYPE array from column arrays."""
    bars = np.zeros(len(close), dtype=CRATES_DTYPE)
    bars["open"] = open_
    bars["high"] = high
    bars["low"] = low
    bars["close"] = close
    bars["time"] = time
    if volume is not None:
        bars["volume"] = volume
    return bars
