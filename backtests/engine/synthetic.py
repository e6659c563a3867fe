"""In-memory MarketData from price arrays (tests and benchmarks; no database)."""

from __future__ import annotations

import numpy as np

from backtests.engine.market import MarketData, SlotSeries
from framework import CRATES_DTYPE
from trading.services.execution.inputs import bar_close_times


def random_walk(
    n: int,
    *,
    seed: int = 7,
    start: float = 1.1,
    step_points: int = 8,
    digits: int = 5,
    t0: int = 1_577_836_800,
    timeframe: int = 1,
) -> dict[str, np.ndarray]:
    """OHLC points of a random walk: n bars, every bar opening at the previous close."""
    rng = np.random.default_rng(seed)
    scale = 10**digits
    closes = int(start * scale) + np.cumsum(rng.integers(-step_points, step_points + 1, n)).astype(np.int64)
    closes = np.maximum(closes, 1000)
    opens = np.concatenate([[closes[0]], closes[:-1]])
    wick = rng.integers(0, step_points, (2, n))
    high = np.maximum(opens, closes) + wick[0]
    low = np.maximum(np.minimum(opens, closes) - wick[1], 1)
    return {
        "time": t0 + np.arange(n, dtype=np.int64) * timeframe * 60,
        "open": opens,
        "high": high,
        "low": low,
        "close": closes,
    }


def _slot(
    time: np.ndarray, o, h, lo, c, *, timeframe: int, window: int, digits: int, primary_close_utc: np.ndarray
) -> SlotSeries:
    scale = float(10**digits)
    n = len(time)
    crates = np.zeros(n + 1, dtype=CRATES_DTYPE)  # the bars plus the spare element (crates_with_spare)
    for name, points in (("open", o), ("high", h), ("low", lo), ("close", c)):
        np.divide(points, scale, out=crates[name][:n])
    crates["time"][:n] = time
    closed_end = np.searchsorted(time, primary_close_utc - timeframe * 60, side="right").astype(np.int32)
    return SlotSeries(
        crates=crates,
        count=n,
        window=window,
        timeframe=timeframe,
        point=1.0 / scale,
        digits=digits,
        close_time=bar_close_times(time, timeframe),
        closed_end=closed_end,
        same_instrument=True,
    )


def aggregate(bars: dict[str, np.ndarray], timeframe: int, factor_minutes: int) -> dict[str, np.ndarray]:
    """Merge bars into fixed buckets of ``factor_minutes`` (UTC-aligned)."""
    bucket = bars["time"] // (factor_minutes * 60)
    starts = np.flatnonzero(np.append(True, bucket[1:] != bucket[:-1]))
    ends = np.append(starts[1:], len(bucket))
    return {
        "time": bucket[starts] * factor_minutes * 60,
        "open": bars["open"][starts],
        "high": np.maximum.reduceat(bars["high"], starts),
        "low": np.minimum.reduceat(bars["low"], starts),
        "close": bars["close"][ends - 1],
    }


def synthetic_market(
    bars: dict[str, np.ndarray],
    *,
    timeframe: int,
    windows: list[tuple[int, int]],
    digits: int = 5,
    spread_points: int = 10,
    contract_size: int = 100_000,
    unit_precision: int = 0,
    min_units: int = 1,
    symbol: str = "EURUSD",
) -> MarketData:
    """MarketData for bars of ``timeframe`` minutes; ``windows`` = [(slot timeframe, closed bars), ...],
    slot 0 being the primary; higher slot timeframes are aggregated from the primary bars."""
    time = bars["time"]
    close_utc = time + timeframe * 60
    slots = []
    first = 0
    for tf, window in windows:
        series = bars if tf == timeframe else aggregate(bars, timeframe, tf)
        slot = _slot(
            series["time"],
            series["open"],
            series["high"],
            series["low"],
            series["close"],
            timeframe=tf,
            window=window,
            digits=digits,
            primary_close_utc=close_utc,
        )
        slot.primary_points = series is bars  # the same bars, their prices divided by 10^digits
        slots.append(slot)
        first = max(first, int(np.flatnonzero(slot.closed_end >= window)[0]))
    return MarketData(
        symbol=symbol,
        digits=digits,
        contract_size=float(contract_size),
        contract_size_e4=contract_size * 10_000,
        unit_precision=unit_precision,
        min_units_ticks=min_units * 10**unit_precision,
        time_open=time,
        close_time=bar_close_times(time, timeframe),
        open=bars["open"],
        high=bars["high"],
        low=bars["low"],
        close=bars["close"],
        spread=np.full(len(time), spread_points, dtype=np.int64),
        slots=slots,
        first=first,
        last=len(time) - 1,
    )
