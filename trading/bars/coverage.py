"""Coverage of the bar store: first/last bar, count and the gaps that are not weekends or holidays.

A gap is a stretch of market time with no bar between two consecutive bars of a series. Market time is
measured as in :mod:`trading.bars.guard` (closed from Friday 17:00 to Sunday 17:00 New York, and on the
25 December and 1 January trading days), so weekends and those holidays are never reported. Intraday
series are compared bar by bar; a gap needs at least ``min_missing`` missing bars to be listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from django.db.models import Count, Max, Min

from trading.bars.guard import market_seconds_between
from trading.bars.read import bars_as_arrays
from trading.bars.timeframes import bucket_end


@dataclass(frozen=True)
class Gap:
    start: datetime  # close of the last bar before the gap
    end: datetime  # open of the first bar after it
    missing_bars: int


@dataclass
class CoverageRow:
    instrument_id: int
    symbol: str
    timeframe: int
    first: datetime
    last: datetime
    count: int
    gaps: list[Gap] = field(default_factory=list)


def series_gaps(times: np.ndarray, timeframe: int, *, min_missing: int = 1) -> list[Gap]:
    """Gaps between consecutive UTC open times (epoch seconds) of one series."""
    if len(times) < 2:
        return []
    # Market seconds one bar covers: W1 = five trading days, MN = about 21 (a gap is a whole bar missing).
    bar_market = {10080: 5 * 86400, 43200: 21 * 86400}.get(timeframe, timeframe * 60)
    steps = np.diff(times)
    gaps = []
    for i in np.flatnonzero(steps > timeframe * 60):  # consecutive bars are never a gap
        try:
            closed = bucket_end(datetime.fromtimestamp(int(times[i]), tz=UTC), timeframe)
            following = datetime.fromtimestamp(int(times[i + 1]), tz=UTC)
            missing = market_seconds_between(closed, following) // bar_market
        except (OverflowError, ValueError, OSError):
            # A bar dated past what datetime holds (imports refuse them now; older rows may remain): no gap
            # can be measured to it, and one such row must not break coverage for every user.
            break
        if missing >= min_missing:
            gaps.append(Gap(start=closed, end=following, missing_bars=int(missing)))
    return gaps


def bars_coverage(
    *, instrument_id: int | None = None, timeframe: int | None = None, with_gaps: bool = True, min_missing: int = 1
) -> list[CoverageRow]:
    """Coverage rows per (instrument, timeframe), optionally filtered, with gaps when ``with_gaps``."""
    from trading.models import Bar

    rows = Bar.objects.all()
    if instrument_id is not None:
        rows = rows.filter(instrument_id=instrument_id)
    if timeframe is not None:
        rows = rows.filter(timeframe=timeframe)
    summary = (
        rows.values("instrument_id", "instrument__symbol", "timeframe")
        .annotate(first=Min("time"), last=Max("time"), count=Count("time"))
        .order_by("instrument__symbol", "timeframe")
    )
    result = []
    for item in summary:
        row = CoverageRow(
            instrument_id=item["instrument_id"],
            symbol=item["instrument__symbol"],
            timeframe=item["timeframe"],
            first=item["first"],
            last=item["last"],
            count=item["count"],
        )
        if with_gaps:
            times = bars_as_arrays(instrument_id=row.instrument_id, timeframe=row.timeframe).time.astype(np.int64)
            row.gaps = series_gaps(times, row.timeframe, min_missing=min_missing)
        result.append(row)
    return result
