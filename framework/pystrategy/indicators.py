"""Indicator values for Python strategies, and numpy versions of every indicator for reference.

Kinds our C library computes (SMA, EMA, ATR, RSI, Bollinger, Donchian) go through its exports, so a Python
strategy reads exactly the bits a C strategy computes on the same window; MACD and the Stochastic are numpy
(the C strategies do not use them). A ``WindowSource`` computes on the window of the call (live runs);
a ``SeriesSource`` (the parity backtester) precomputes, once per run, the value every window of the run gives
(asirikuy_indicator_windows), so a bar costs a lookup and the values are the window values bit for bit. An
incremental engine can serve the full-history values through the same ``value`` call (framework/warmup.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Protocol

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from framework import _ffi

C_KINDS: dict[str, int] = {
    "sma": 1,
    "ema": 2,
    "atr": 3,
    "rsi": 4,
    "bb_upper": 5,
    "bb_middle": 6,
    "bb_lower": 7,
    "donchian_high": 8,
    "donchian_low": 9,
}
Key = tuple[int, str, int, float, int]  # slot, kind, period, param, shift


# --- numpy definitions (framework/README.md "Indicator definitions") ---------------------------------------


def sma(close: np.ndarray, period: int) -> np.ndarray:
    """Mean of the last ``period`` closes; NaN before."""
    out = np.full(len(close), np.nan)
    if len(close) >= period:
        out[period - 1 :] = sliding_window_view(close, period).mean(axis=1)
    return out


def ema(close: np.ndarray, period: int) -> np.ndarray:
    """EMA seeded with the SMA of the first ``period`` closes, alpha = 2 / (period + 1)."""
    out = np.full(len(close), np.nan)
    if len(close) < period:
        return out
    alpha = 2.0 / (period + 1.0)
    value = float(np.mean(close[:period]))
    out[period - 1] = value
    for i in range(period, len(close)):
        value = alpha * float(close[i]) + (1.0 - alpha) * value
        out[i] = value
    return out


def _wilder(values: np.ndarray, period: int, first: int) -> np.ndarray:
    """Wilder's average of values[first..], seeded at first + period - 1 with their mean."""
    out = np.full(len(values), np.nan)
    if len(values) < first + period:
        return out
    value = float(np.mean(values[first : first + period]))
    out[first + period - 1] = value
    for i in range(first + period, len(values)):
        value = (value * (period - 1) + float(values[i])) / period
        out[i] = value
    return out


def true_range(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """max(H - L, |H - C[-1]|, |L - C[-1]|); NaN at index 0."""
    tr = np.full(len(close), np.nan)
    prev = close[:-1]
    tr[1:] = np.maximum.reduce([high[1:] - low[1:], np.abs(high[1:] - prev), np.abs(low[1:] - prev)])
    return tr


def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int) -> np.ndarray:
    """Wilder ATR seeded with mean TR[1..period]."""
    return _wilder(true_range(high, low, close), period, 1)


def rsi(close: np.ndarray, period: int) -> np.ndarray:
    """Wilder RSI seeded with the mean gain/loss of the first ``period`` changes; 100 with no losses (50 flat)."""
    change = np.diff(close, prepend=np.nan)
    gain = _wilder(np.where(change > 0, change, 0.0), period, 1)
    loss = _wilder(np.where(change < 0, -change, 0.0), period, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 100.0 - 100.0 / (1.0 + gain / loss)
    value = np.where(loss == 0.0, np.where(gain == 0.0, 50.0, 100.0), value)
    value[np.isnan(gain)] = np.nan
    return value


def bollinger(close: np.ndarray, period: int, k: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(upper, middle, lower): SMA +/- k population standard deviations."""
    middle = sma(close, period)
    sd = np.full(len(close), np.nan)
    if len(close) >= period:
        sd[period - 1 :] = sliding_window_view(close, period).std(axis=1)
    return middle + k * sd, middle, middle - k * sd


def donchian(high: np.ndarray, low: np.ndarray, period: int) -> tuple[np.ndarray, np.ndarray]:
    """(highest high, lowest low) of the last ``period`` bars."""
    hi = np.full(len(high), np.nan)
    lo = np.full(len(low), np.nan)
    if len(high) >= period:
        hi[period - 1 :] = sliding_window_view(high, period).max(axis=1)
        lo[period - 1 :] = sliding_window_view(low, period).min(axis=1)
    return hi, lo


def macd(close: np.ndarray, fast: int, slow: int, signal: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(line, signal, histogram): EMA(fast) - EMA(slow), its EMA(signal) seeded on the first ``signal``
    line values (from bar slow - 1), and line - signal."""
    line = ema(close, fast) - ema(close, slow)
    sig = np.full(len(close), np.nan)
    start = slow - 1
    if len(close) > start:
        sig[start:] = ema(line[start:], signal)
    return line, sig, line - sig


def stochastic(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, k_period: int, slow_k: int, d_period: int
) -> tuple[np.ndarray, np.ndarray]:
    """(slow %K, %D): fast %K = 100 (C - LL) / (HH - LL) over ``k_period`` bars (0 when HH = LL, as TA-Lib),
    slow %K = its SMA(slow_k), %D = SMA(d_period) of slow %K."""
    hh, ll = donchian(high, low, k_period)
    span = hh - ll
    with np.errstate(divide="ignore", invalid="ignore"):
        fast = np.where(span > 0, 100.0 * (close - ll) / span, 0.0)
    fast[np.isnan(hh)] = np.nan
    k = _nan_sma(fast, slow_k)
    return k, _nan_sma(k, d_period)


def _nan_sma(values: np.ndarray, period: int) -> np.ndarray:
    out = np.full(len(values), np.nan)
    valid = np.flatnonzero(~np.isnan(values))
    if len(valid):
        out[valid[0] :] = sma(values[valid[0] :], period)
    return out


# --- values a strategy reads ---------------------------------------------------------------------------------


def numpy_value(bars: np.ndarray, kind: str, period: int, param: float, shift: int) -> float:
    """The value at ``shift`` bars before the last of ``bars`` (closed bars), computed over them with numpy."""
    close, high, low = bars["close"], bars["high"], bars["low"]
    if kind == "sma":
        series = sma(close, period)
    elif kind == "ema":
        series = ema(close, period)
    elif kind == "atr":
        series = atr(high, low, close, period)
    elif kind == "rsi":
        series = rsi(close, period)
    elif kind.startswith("bb_"):
        upper, middle, lower = bollinger(close, period, param)
        series = {"bb_upper": upper, "bb_middle": middle, "bb_lower": lower}[kind]
    elif kind.startswith("donchian_"):
        hi, lo = donchian(high, low, period)
        series = hi if kind == "donchian_high" else lo
    elif kind.startswith("macd_"):
        fast, slow, signal = (int(x) for x in divmod_triplet(period, param))
        line, sig, hist = macd(close, fast, slow, signal)
        series = {"macd_line": line, "macd_signal": sig, "macd_hist": hist}[kind]
    elif kind.startswith("stoch_"):
        k_period, slow_k, d_period = (int(x) for x in divmod_triplet(period, param))
        k, d = stochastic(high, low, close, k_period, slow_k, d_period)
        series = k if kind == "stoch_k" else d
    else:
        raise ValueError(f"unknown indicator kind {kind!r}")
    index = len(bars) - 1 - shift
    return float(series[index]) if index >= 0 else float("nan")


def pack_triplet(a: int, b: int, c: int) -> tuple[int, float]:
    """Three small periods as (period, param) for a Key: a, and b * 10_000 + c."""
    return a, float(b * 10_000 + c)


def divmod_triplet(period: int, param: float) -> tuple[int, int, int]:
    b, c = divmod(int(param), 10_000)
    return period, b, c


class IndicatorSource(Protocol):
    """Where a StrategyContext gets indicator values: slot, kind, period, param (k, or packed periods), shift."""

    def value(self, slot: int, kind: str, period: int, param: float, shift: int) -> float: ...


def _closed(window: np.ndarray) -> np.ndarray:
    return window[:-1]  # the last element is the forming bar: indicators read closed bars only


class WindowSource:
    """Values over the windows of one call (live); each value computed once per call."""

    def __init__(self, windows: Sequence[np.ndarray], library: _ffi.Library | None) -> None:
        self.windows = windows
        self.library = library if library is not None and library.has_indicator_windows else None
        self.cache: dict[Key, float] = {}
        self._out = np.empty(1, dtype=np.float64)

    def value(self, slot: int, kind: str, period: int, param: float, shift: int) -> float:
        key = (slot, kind, period, param, shift)
        got = self.cache.get(key)
        if got is None:
            got = self.cache[key] = self._compute(slot, kind, period, param, shift)
        return got

    def _compute(self, slot: int, kind: str, period: int, param: float, shift: int) -> float:
        bars = _closed(self.windows[slot])
        code = C_KINDS.get(kind)
        if not 0 <= shift < len(bars) or period > len(bars):
            return float("nan")
        if code is None or self.library is None:
            return numpy_value(bars, kind, period, param, shift)
        out = np.empty(shift + 1, dtype=np.float64)
        rc = self.library.indicator_tail(code, bars, period, param, out)
        if rc != 0:
            raise ValueError(f"indicator {kind}({period}, {param}) failed with code {rc}")
        return float(out[0])


class SeriesSource:
    """Values of every window of a backtest run, computed once per (slot, kind, period, param, shift).

    ``ends[slot]`` is the index of the last closed bar of the slot's current window in its series (the parity
    engine sets it every bar); a value is ``series[ends[slot]]``. Kinds without a C export fall back to the
    window of the call (``windows``), as WindowSource computes them.
    """

    def __init__(self, series: Sequence[np.ndarray], counts: Sequence[int], window_sizes: Sequence[int]) -> None:
        from framework.strategy import get_framework

        library = get_framework().ffi
        self.library = library if library.has_indicator_windows else None
        self.series = series
        self.counts = counts
        self.sizes = window_sizes
        self.ends = [0] * len(series)
        self.windows: list[np.ndarray] = []
        self.tables: dict[Key, np.ndarray] = {}
        self.fallback = WindowSource(self.windows, library)
        # computing a table happens inside a strategy call but is the platform's work: run it under this
        self.table_context: Callable[[], AbstractContextManager[None]] = nullcontext

    def value(self, slot: int, kind: str, period: int, param: float, shift: int) -> float:
        key = (slot, kind, period, param, shift)
        table = self.tables.get(key)
        if table is None:
            code = C_KINDS.get(kind)
            if code is None or self.library is None:
                return self.fallback.value(slot, kind, period, param, shift)
            window = self.sizes[slot]
            if shift >= window or period > window:
                table = np.full(self.counts[slot], np.nan)
            else:
                with self.table_context():
                    rc, table = self.library.indicator_windows(
                        code, self.series[slot], self.counts[slot], period, param, window, shift
                    )
                if rc != 0:
                    raise ValueError(f"indicator {kind}({period}, {param}) failed with code {rc}")
            self.tables[key] = table
        return float(table[self.ends[slot]])

    def next_call(self, windows: Sequence[np.ndarray]) -> None:
        """A new bar: the fallback computes on these windows."""
        if self.fallback.cache:
            self.fallback.cache.clear()
        self.fallback.windows = windows
