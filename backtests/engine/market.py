"""The inputs of one backtest, in memory: bars as integer points, rates slots, costs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from framework import CRATES_DTYPE

MinStopMode = Literal["reject", "widen"]


@dataclass(frozen=True)
class Costs:
    """Trading costs of the simulated broker.

    spread_points: fixed spread in points; None takes each bar's spread from the data (the
    instrument's configured spread where a bar has none). commission_per_lot: account currency per
    lot (contract size units), round turn, charged when the trade closes. swap_*_per_lot: account
    currency per lot per rollover night (negative = a charge), booked when the trade closes.
    slippage_points: market entries, signal closes, stop-order fills and stop-loss exits fill this
    many points worse (limit fills and take profits fill at their level). min_stop_points: the
    broker's minimum stop distance; "reject" refuses an order (or a modification) whose stop loss or
    take profit is closer than that to the price it is measured from, "widen" moves the level out to
    the minimum distance. 0 checks nothing (as the paper broker).
    """

    spread_points: int | None = None
    commission_per_lot: float = 0.0
    swap_long_per_lot: float = 0.0
    swap_short_per_lot: float = 0.0
    slippage_points: int = 0
    min_stop_points: int = 0
    min_stop_mode: MinStopMode = "reject"

    def as_json(self) -> dict[str, object]:
        return {
            "spread_points": self.spread_points,
            "commission_per_lot": self.commission_per_lot,
            "swap_long_per_lot": self.swap_long_per_lot,
            "swap_short_per_lot": self.swap_short_per_lot,
            "slippage_points": self.slippage_points,
            "min_stop_points": self.min_stop_points,
            "min_stop_mode": self.min_stop_mode,
        }


@dataclass
class SlotSeries:
    """One rates slot: its closed bars and, per primary bar, how many of them are closed by then.

    ``crates`` holds ``count`` bars plus one spare element at the end (the fast engine writes the
    forming bar after the window in place). ``close_time[j]`` is the framework time at which bar j
    closes: the forming bar after it opens then.
    """

    crates: np.ndarray
    count: int
    window: int
    timeframe: int
    point: float
    digits: int
    close_time: np.ndarray  # int64, per slot bar
    closed_end: np.ndarray  # int32, per primary bar
    same_instrument: bool
    # A foreign library's slot: the timeframe its strategy reads (built by the library from these bars) and
    # its totalBarsRequired; 0 = the bars passed are the bars required (our strategies).
    required_timeframe: int = 0
    total_bars_required: int = 0
    # slot bar j is primary bar j, its open/high/low/close MarketData's points / 10^digits exactly: the fast
    # engine's kernels may read the int64 series (8 bytes a value) instead of the bars (48 each); False is safe
    primary_points: bool = False


@dataclass
class MarketData:
    """Primary bars (integer points), the rates slots, the instrument and the tested bar range."""

    symbol: str
    digits: int
    contract_size: float
    contract_size_e4: int  # contract size × 10^4 (the model's decimal places), exact
    unit_precision: int
    min_units_ticks: int  # ceil(min_units × 10^unit_precision)
    time_open: np.ndarray  # int64 UTC epoch seconds
    close_time: np.ndarray  # int64 framework time of each bar's close (= the strategy's current time)
    open: np.ndarray  # int64 points
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    spread: np.ndarray  # int64 points
    slots: list[SlotSeries]
    first: int  # first tested bar index (the strategy runs at its close)
    last: int  # last tested bar index
    rate_mode: int = 0  # 0 = fixed quote→account rate, 1 = 1 / price (account currency is the base)
    fixed_rate: float = 1.0
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def scale(self) -> float:
        return float(10**self.digits)

    @property
    def bar_count(self) -> int:
        return self.last - self.first + 1


def crates_with_spare(rows: np.ndarray) -> np.ndarray:
    """A CRATES array of ``rows`` plus one zeroed spare element at the end."""
    out = np.zeros(len(rows) + 1, dtype=CRATES_DTYPE)
    for name in ("open", "high", "low", "close", "volume", "time"):
        out[name][: len(rows)] = rows[name]
    return out
