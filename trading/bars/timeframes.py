"""Timeframe alignment and derivation of coarser bars from finer ones (M1 → M5 … MN).

The rule set (also in ``trading/bars/README.md``):

* A bar's ``time`` is its OPEN time in UTC.
* M1, M5, M15, M30 and H1 bars are aligned to UTC boundaries (``epoch % length == 0``).
* H4, D1, W1 and MN bars are aligned to a *trading clock*: the wall clock of an alignment time zone from
  :mod:`trading.bars.brokertime` shifted so that its trading day starts at 00:00. The default, ``"OANDA"``,
  is the 17:00 New York roll: a D1 bar opens at 17:00 New York, which is 21:00 UTC in US summer time and
  22:00 UTC in winter; H4 bars open at 17, 21, 1, 5, 9 and 13 New York. ``"MT_GMT2_US_DST"`` gives the
  same bars (its midnight is 17:00 New York); ``"UTC"`` aligns days to 00:00 UTC; ``"MT_GMT2_EU_DST"``
  to 00:00 of a GMT+2/+3 clock that follows EU DST.
* W1 opens on Monday 00:00 of the trading clock (for the default: the Sunday 17:00 New York open) and
  closes five trading days later (the Friday 17:00 New York close).
* MN is the calendar month of the trading day and opens on the 1st at 00:00 of the trading clock.
* Saturday of the trading clock has no market: source bars there are dropped from H4 and longer bars.
  Sunday of the trading clock (the stub before the New York open, e.g. 22:00–24:00 UTC on a UTC clock)
  is merged into Monday's D1, W1 and MN bars, so no Sunday D1 bar exists. Intraday bars are never merged.
* A derived bar is complete when a later source bar exists, or when the source is known complete up to
  its close; a source that ends at the Friday close counts as complete until the Sunday open.
* A bar that opens before the source is known to start (``complete_from``: by default the open of the
  first source bar; ``bars_derive_store`` passes the first stored source bar) holds only part of its period
  and is marked incomplete, like a forming bar, so no strategy or backtest reads it as a whole D1/H4 bar.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from trading.bars.brokertime import NY_ROLL, from_trading_clock, trading_clock
from trading.models.enums import Timeframe

DAY = 86400
INTRADAY_MAX = Timeframe.H1
_SATURDAY, _SUNDAY = 5, 6

BAR_DTYPE = np.dtype(
    [
        ("time", "<i8"),  # UTC open time, epoch seconds
        ("open", "<i8"),
        ("high", "<i8"),
        ("low", "<i8"),
        ("close", "<i8"),
        ("volume", "<i8"),
        ("spread", "<i4"),  # points; -1 = unknown
        ("complete", "?"),
    ]
)


class DerivationError(ValueError):
    """The requested derivation is not defined (e.g. coarser source, or misaligned source)."""


def _weekday(day: np.ndarray) -> np.ndarray:
    return (day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0


def _market_day(day: np.ndarray) -> np.ndarray:
    """Trading-clock day number → itself, or the following Monday for Saturday and Sunday."""
    weekday = _weekday(day)
    return np.where(weekday == _SATURDAY, day + 2, np.where(weekday == _SUNDAY, day + 1, day))


def _month_start_day(day: int) -> int:
    date = datetime.fromtimestamp(day * DAY, tz=UTC)
    return int(datetime(date.year, date.month, 1, tzinfo=UTC).timestamp()) // DAY


def _next_month_start_day(day: int) -> int:
    date = datetime.fromtimestamp(day * DAY, tz=UTC)
    year, month = (date.year + 1, 1) if date.month == 12 else (date.year, date.month + 1)
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp()) // DAY


def _clock_buckets(utc_seconds: np.ndarray, timeframe: int, align_tz: str) -> tuple[np.ndarray, np.ndarray]:
    """Bucket (start, end) on the trading clock, in trading-clock seconds, for H4 and longer."""
    t = trading_clock(utc_seconds, align_tz)
    if timeframe == Timeframe.H4:
        start = t - t % (4 * 3600)
        return start, start + 4 * 3600
    day = _market_day(t // DAY)
    if timeframe == Timeframe.D1:
        return day * DAY, (day + 1) * DAY
    if timeframe == Timeframe.W1:
        monday = day - _weekday(day)
        return monday * DAY, (monday + 5) * DAY
    if timeframe == Timeframe.MN:
        firsts = {int(d): _month_start_day(int(d)) for d in np.unique(day)}
        nexts = {int(d): _next_month_start_day(int(d)) for d in np.unique(day)}
        return (
            np.array([firsts[int(d)] for d in day], dtype=np.int64) * DAY,
            np.array([nexts[int(d)] for d in day], dtype=np.int64) * DAY,
        )
    raise DerivationError(f"timeframe {timeframe} is not one of {[int(tf) for tf in Timeframe]}")


def _clock_to_utc(clock_seconds: np.ndarray, align_tz: str) -> np.ndarray:
    unique, inverse = np.unique(clock_seconds, return_inverse=True)
    converted = np.array([from_trading_clock(int(v), align_tz) for v in unique], dtype=np.int64)
    return converted[inverse].reshape(np.shape(clock_seconds))


def bucket_bounds(utc_seconds: np.ndarray, timeframe: int, align_tz: str = NY_ROLL) -> tuple[np.ndarray, np.ndarray]:
    """UTC (open, close) epoch seconds of the ``timeframe`` bar containing each instant."""
    utc_seconds = np.asarray(utc_seconds, dtype=np.int64)
    if timeframe <= INTRADAY_MAX:
        length = timeframe * 60
        start = utc_seconds - utc_seconds % length
        return start, start + length
    start, end = _clock_buckets(utc_seconds, timeframe, align_tz)
    return _clock_to_utc(start, align_tz), _clock_to_utc(end, align_tz)


def bucket_start(utc: datetime, timeframe: int, align_tz: str = NY_ROLL) -> datetime:
    """Open time of the ``timeframe`` bar that contains ``utc`` (Saturday/Sunday map to Monday's)."""
    start, _ = bucket_bounds(np.array([int(utc.timestamp())]), timeframe, align_tz)
    return datetime.fromtimestamp(int(start[0]), tz=UTC)


def bucket_end(open_time: datetime, timeframe: int, align_tz: str = NY_ROLL) -> datetime:
    """Close time of the ``timeframe`` bar that contains ``open_time``."""
    _, end = bucket_bounds(np.array([int(open_time.timestamp())]), timeframe, align_tz)
    return datetime.fromtimestamp(int(end[0]), tz=UTC)


def is_aligned(utc_seconds: np.ndarray, timeframe: int, align_tz: str = NY_ROLL) -> np.ndarray:
    """Mask of times that are the open time of their own ``timeframe`` bar."""
    utc_seconds = np.asarray(utc_seconds, dtype=np.int64)
    start, _ = bucket_bounds(utc_seconds, timeframe, align_tz)
    return start == utc_seconds


def _extend_over_weekend(utc_second: int) -> int:
    """A source that ends exactly at the Friday 17:00 New York close is complete until the Sunday open."""
    t = int(trading_clock(np.array([utc_second]), NY_ROLL)[0])
    if t % DAY == 0 and _weekday(np.array([t // DAY]))[0] == _SATURDAY:
        return from_trading_clock(t + 2 * DAY, NY_ROLL)
    return utc_second


def bars_derive(
    source: np.ndarray,
    *,
    source_timeframe: int,
    timeframe: int,
    align_tz: str = NY_ROLL,
    complete_through: datetime | None = None,
    complete_from: datetime | None = None,
) -> np.ndarray:
    """Aggregate ``source`` bars (BAR_DTYPE, strictly increasing times) into ``timeframe`` bars.

    ``complete_through`` is the instant up to which the source is known to be complete (default: the close
    of its last bar, extended over the weekend when that close is the Friday close); ``complete_from`` the
    instant from which it is (default: the open of its first bar): a bar opening before it is partial.
    """
    if timeframe <= source_timeframe:
        raise DerivationError(f"cannot derive {timeframe}m bars from {source_timeframe}m bars")
    if timeframe <= INTRADAY_MAX and timeframe % source_timeframe:
        raise DerivationError(f"{timeframe}m is not a multiple of {source_timeframe}m")
    if (
        timeframe > INTRADAY_MAX
        and source_timeframe > INTRADAY_MAX
        and source_timeframe not in (Timeframe.H4, Timeframe.D1)
    ):
        raise DerivationError(f"cannot derive {timeframe}m bars from {source_timeframe}m bars")
    if len(source) == 0:
        return np.empty(0, dtype=BAR_DTYPE)
    times = source["time"].astype(np.int64)
    if not is_aligned(times, source_timeframe, align_tz).all():
        bad = int(times[~is_aligned(times, source_timeframe, align_tz)][0])
        raise DerivationError(
            f"source bar at {datetime.fromtimestamp(bad, tz=UTC):%Y-%m-%d %H:%M} UTC is not aligned to "
            f"{source_timeframe}m"
        )
    if timeframe > INTRADAY_MAX:
        t = trading_clock(times, align_tz)
        keep = _weekday(t // DAY) != _SATURDAY
        source, times = source[keep], times[keep]
        if len(source) == 0:
            return np.empty(0, dtype=BAR_DTYPE)
    starts, ends = bucket_bounds(times, timeframe, align_tz)
    first = np.flatnonzero(np.r_[True, starts[1:] != starts[:-1]])
    out = np.empty(len(first), dtype=BAR_DTYPE)
    out["time"] = starts[first]
    out["open"] = source["open"][first]
    out["close"] = source["close"][np.r_[first[1:] - 1, len(source) - 1]]
    out["high"] = np.maximum.reduceat(source["high"], first)
    out["low"] = np.minimum.reduceat(source["low"], first)
    out["volume"] = np.add.reduceat(source["volume"], first)
    out["spread"] = np.maximum.reduceat(source["spread"], first)
    all_complete = np.logical_and.reduceat(source["complete"], first)
    if complete_through is None:
        through = int(times[-1]) + int(bucket_bounds(times[-1:], source_timeframe, align_tz)[1][0] - times[-1])
    else:
        through = int(complete_through.timestamp())
    through = _extend_over_weekend(through)
    closed = ends[first] <= through
    closed[:-1] = True  # a later source bar exists
    since = int(times[0]) if complete_from is None else int(complete_from.timestamp())
    whole = out["time"] >= since  # a bar that opened before the source starts covers only part of its period
    out["complete"] = all_complete & closed & whole
    return out
