"""Derive and store coarser bars from stored finer ones (the rules are in :mod:`trading.bars.timeframes`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from trading.bars.brokertime import NY_ROLL
from trading.bars.store import UpsertReport, bars_upsert
from trading.bars.timeframes import BAR_DTYPE, bars_derive, bucket_bounds
from trading.models import Bar, Instrument


def _source_bars(instrument: Instrument, timeframe: int, start: datetime | None, end: datetime | None) -> np.ndarray:
    rows = Bar.objects.filter(instrument=instrument, timeframe=timeframe).order_by("time")
    if start is not None:
        rows = rows.filter(time__gte=start)
    if end is not None:
        rows = rows.filter(time__lte=end)
    values = list(rows.values_list("time", "open", "high", "low", "close", "volume", "spread", "complete"))
    bars = np.zeros(len(values), dtype=BAR_DTYPE)
    for i, (t, o, h, lo, c, v, spread, complete) in enumerate(values):
        bars[i] = (int(t.timestamp()), o, h, lo, c, v, -1 if spread is None else spread, complete)
    return bars


def bars_derive_store(
    *,
    instrument: Instrument,
    source_timeframe: int,
    timeframe: int,
    align_tz: str = NY_ROLL,
    start: datetime | None = None,
    end: datetime | None = None,
) -> UpsertReport:
    """Derive ``timeframe`` bars from stored ``source_timeframe`` bars in [start, end] and upsert them.

    ``start`` is widened to the open of the bar that contains it, so a bar is derived from all its stored
    source bars; a bar that opens before the first stored source bar is written as incomplete (it is partial).
    """
    if start is not None:
        opened = bucket_bounds(np.array([int(start.timestamp())]), timeframe, align_tz)[0][0]
        start = datetime.fromtimestamp(int(opened), tz=UTC)
    source = _source_bars(instrument, source_timeframe, start, end)
    # The source is known from its first stored bar on: a derived bar opening before that one is partial.
    first_stored = (
        Bar.objects.filter(instrument=instrument, timeframe=source_timeframe)
        .order_by("time")
        .values_list("time", flat=True)
        .first()
    )
    derived = bars_derive(
        source,
        source_timeframe=source_timeframe,
        timeframe=timeframe,
        align_tz=align_tz,
        complete_through=None if end is None else end + timedelta(seconds=1),
        complete_from=first_stored,
    )
    return bars_upsert(instrument_id=instrument.id, timeframe=timeframe, bars=derived)
