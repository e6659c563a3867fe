"""Bar builders, a raw-call harness and numpy reference indicators for the framework tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from framework import CRATES_DTYPE, AccountInfo, BidAsk, Framework, OrderInfo, RatesSlot, StrategySettings
from framework.types import ORDER_INFO_DTYPE, RATES_INFO_DTYPE, RESULT_DTYPE

T0 = 1_700_000_000 - (1_700_000_000 % 3600)  # an hour boundary in Nov 2023
ACCOUNT = AccountInfo(
    account_number=7,
    balance=10_000.0,
    equity=10_000.0,
    margin=0.0,
    leverage=50.0,
    contract_size=100_000.0,
    minimum_stop=0.0,
    stopout_percent=50.0,
)


def bars_from_closes(
    closes: Sequence[float],
    *,
    spread: float = 0.001,
    timeframe: int = 60,
    start: int = T0,
    forming: float | None = None,
) -> np.ndarray:
    """Closed bars with open = previous close, high/low = close +/- spread, plus a forming bar."""
    closes = np.asarray(closes, dtype=np.float64)
    n = len(closes)
    bars = np.zeros(n + 1, dtype=CRATES_DTYPE)
    bars["close"][:n] = closes
    bars["open"][:n] = np.r_[closes[0], closes[:-1]]
    bars["high"][:n] = np.maximum(bars["open"][:n], closes) + spread
    bars["low"][:n] = np.minimum(bars["open"][:n], closes) - spread
    bars["volume"][:n] = 10.0
    last = closes[-1] if forming is None else forming
    bars[n] = (last, last, last, last, 0.0, 0)
    bars["time"] = start + timeframe * 60 * np.arange(n + 1)
    return bars


def slot(bars: np.ndarray, timeframe: int = 60, total: int | None = None, actual: int | None = None) -> RatesSlot:
    """A RatesSlot over bars, requiring all of them unless total is given."""
    return RatesSlot(
        rates=bars,
        required_timeframe=timeframe,
        total_bars_required=total if total is not None else len(bars),
        actual_timeframe=actual if actual is not None else timeframe,
        point=1e-5,
        digits=5,
    )


def prices(bid: float, spread: float = 0.0002) -> BidAsk:
    return BidAsk(bid=bid, ask=round(bid + spread, 10))


def run(
    fw: Framework,
    settings: StrategySettings,
    slots: Sequence[RatesSlot],
    *,
    orders: Sequence[OrderInfo] = (),
    bid_ask: BidAsk | None = None,
    account: AccountInfo = ACCOUNT,
    current_time: int | None = None,
    broker: str = "UTC",
    ref_broker: str = "UTC",
):
    """Run the framework with sensible defaults (bid = forming bar close)."""
    primary = slots[0].rates
    if bid_ask is None:
        bid_ask = prices(float(primary["close"][-1]))
    if current_time is None:
        current_time = int(primary["time"][-1]) + 60
    return fw.run(
        instance_id=settings.instance_id,
        settings=settings,
        symbol="EURUSD",
        account_currency="USD",
        broker_name=broker,
        ref_broker_name=ref_broker,
        current_time=current_time,
        orders=orders,
        account=account,
        prices=bid_ask,
        slots=slots,
    )


def lots_for(sl_distance: float, equity: float = 10_000.0, risk_percent: float = 1.0, contract: float = 100_000.0):
    raw = risk_percent / 100.0 * equity / (sl_distance * contract)
    return max(np.floor(raw * 100.0 + 1e-7) / 100.0, 0.01)


@dataclass
class RawCall:
    """Every c_runStrategy argument as an explicit buffer, so tests can break any one of them."""

    settings: np.ndarray
    bars: np.ndarray
    symbol: bytes | None = b"EURUSD"
    currency: bytes | None = b"USD"
    broker: bytes | None = b"UTC"
    ref_broker: bytes | None = b"UTC"
    time_and_count: np.ndarray = field(default_factory=lambda: np.array([T0, 0], dtype=np.int32))
    orders: np.ndarray = field(default_factory=lambda: np.zeros(20, dtype=ORDER_INFO_DTYPE))
    account: np.ndarray = field(default_factory=lambda: np.array(ACCOUNT.as_row()))
    bid_ask: np.ndarray = field(default_factory=lambda: np.array([1.1, 1.1002, 1.0, 1.0, 1.0, 1.0]))
    rates_info: np.ndarray = field(default_factory=lambda: np.zeros(10, dtype=RATES_INFO_DTYPE))
    results: np.ndarray | None = None
    null: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self.rates_info[0] = (1, self.settings[53], len(self.bars), self.settings[53], len(self.bars), 1e-5, 5)
        if self.results is None:
            self.results = np.zeros(int(max(self.settings[45], 1)), dtype=RESULT_DTYPE)

    def call(self, fw: Framework) -> int:
        def addr(name: str, array: np.ndarray) -> int | None:
            return None if name in self.null else int(array.ctypes.data)

        def text(name: str, value: bytes | None) -> str | None:
            return None if name in self.null or value is None else value.decode()

        rates: list[int | None] = [addr("rates0", self.bars)] + [None] * 9
        return fw.ffi.run_strategy(
            addr("settings", self.settings),
            text("symbol", self.symbol),
            text("currency", self.currency),
            text("broker", self.broker),
            text("ref_broker", self.ref_broker),
            addr("time", self.time_and_count),
            addr("orders", self.orders),
            addr("account", self.account),
            addr("bid_ask", self.bid_ask),
            addr("rates_info", self.rates_info),
            rates,
            addr("results", self.results),
        )


# ---- numpy reference indicators (independent of the C code) ----------------


def ref_sma(close: np.ndarray, period: int) -> np.ndarray:
    out = np.full(len(close), np.nan)
    for i in range(period - 1, len(close)):
        out[i] = np.mean(close[i - period + 1 : i + 1])
    return out


def ref_ema(close: np.ndarray, period: int) -> np.ndarray:
    out = np.full(len(close), np.nan)
    if len(close) < period:
        return out
    alpha = 2.0 / (period + 1)
    out[period - 1] = np.mean(close[:period])
    for i in range(period, len(close)):
        out[i] = alpha * close[i] + (1 - alpha) * out[i - 1]
    return out


def ref_true_range(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    prev = np.r_[np.nan, close[:-1]]
    return np.nanmax(np.vstack([high - low, np.abs(high - prev), np.abs(low - prev)]), axis=0)


def ref_atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    tr = ref_true_range(high, low, close)
    out = np.full(len(close), np.nan)
    if len(close) <= period:
        return out
    out[period] = np.mean(tr[1 : period + 1])
    for i in range(period + 1, len(close)):
        out[i] = (out[i - 1] * (period - 1) + tr[i]) / period
    return out


def ref_rsi(close: np.ndarray, period: int) -> np.ndarray:
    delta = np.diff(close)
    gains = np.clip(delta, 0, None)
    losses = np.clip(-delta, 0, None)
    out = np.full(len(close), np.nan)
    if len(close) <= period:
        return out
    gain = np.mean(gains[:period])
    loss = np.mean(losses[:period])
    for i in range(period, len(close)):
        if i > period:
            gain = (gain * (period - 1) + gains[i - 1]) / period
            loss = (loss * (period - 1) + losses[i - 1]) / period
        out[i] = 100.0 if loss == 0 and gain > 0 else (50.0 if loss == 0 else 100.0 - 100.0 / (1.0 + gain / loss))
    return out


def ref_bollinger(close: np.ndarray, period: int, k: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mid = ref_sma(close, period)
    sd = np.full(len(close), np.nan)
    for i in range(period - 1, len(close)):
        sd[i] = np.std(close[i - period + 1 : i + 1])
    return mid + k * sd, mid, mid - k * sd


def ref_donchian(high: np.ndarray, low: np.ndarray, period: int) -> tuple[np.ndarray, np.ndarray]:
    hi = np.full(len(high), np.nan)
    lo = np.full(len(low), np.nan)
    for i in range(period - 1, len(high)):
        hi[i] = np.max(high[i - period + 1 : i + 1])
        lo[i] = np.min(low[i - period + 1 : i + 1])
    return hi, lo


def random_walk_bars(n: int, seed: int = 3, timeframe: int = 60, start: int = T0) -> np.ndarray:
    """n bars (the last one forming) of a seeded random walk with realistic ranges."""
    rng = np.random.default_rng(seed)
    close = 1.1 + np.cumsum(rng.normal(0, 0.0008, n))
    bars = np.zeros(n, dtype=CRATES_DTYPE)
    bars["close"] = close
    bars["open"] = np.r_[close[0], close[:-1]]
    wiggle = np.abs(rng.normal(0, 0.0005, (2, n)))
    bars["high"] = np.maximum(bars["open"], close) + wiggle[0]
    bars["low"] = np.minimum(bars["open"], close) - wiggle[1]
    bars["volume"] = rng.integers(1, 100, n)
    bars["time"] = start + timeframe * 60 * np.arange(n)
    return bars


def assert_rel(actual: float, expected: float, rel: float = 1e-9) -> None:
    assert abs(actual - expected) <= rel * max(abs(expected), 1e-300), (actual, expected)


def empty_results(rows: int) -> np.ndarray:
    return np.zeros(rows, dtype=RESULT_DTYPE)


__all__ = [
    "ACCOUNT",
    "T0",
    "RawCall",
    "assert_rel",
    "bars_from_closes",
    "empty_results",
    "lots_for",
    "prices",
    "random_walk_bars",
    "ref_atr",
    "ref_bollinger",
    "ref_donchian",
    "ref_ema",
    "ref_rsi",
    "ref_sma",
    "run",
    "slot",
]
