"""Filling gaps from a broker: a pluggable bar source per broker.

A bar source is any callable ``source(instrument, timeframe, start, end)`` that yields
:class:`trading.bars.store.BarRow` (complete bars with open time in ``[start, end)``). Broker packages
offer theirs through their venue adapter (``Venue.data_bar_source``: OANDA's candles endpoint); the paper
broker has none, because it simulates from the stored bars themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from trading.bars.coverage import bars_coverage
from trading.bars.store import BarRow, bars_upsert
from trading.models import Instrument

BarSource = Callable[[Instrument, int, datetime, datetime], Iterable[BarRow]]


class BarSourceMissing(LookupError):
    """No data source is configured for that broker; nothing can be fetched."""


def bar_source_for(broker: str) -> BarSource:
    """The bar source of broker kind ``broker``; BarSourceMissing when it has none or none is configured."""
    from trading.venues import venue_class

    try:
        venue = venue_class(broker)
    except ValueError as e:
        raise BarSourceMissing(str(e)) from None
    return venue.data_bar_source()


@dataclass(frozen=True)
class FillReport:
    gaps: int
    inserted: int
    still_missing: int


def bars_fill_gaps(*, instrument: Instrument, timeframe: int, source: BarSource) -> FillReport:
    """Ask ``source`` for the bars of every gap of the series and upsert what it returns."""
    rows = bars_coverage(instrument_id=instrument.id, timeframe=timeframe)
    gaps = rows[0].gaps if rows else []
    inserted = 0
    for gap in gaps:
        report = bars_upsert(
            instrument_id=instrument.id,
            timeframe=timeframe,
            bars=list(source(instrument, timeframe, gap.start, gap.end)),
        )
        inserted += report.inserted
    after = bars_coverage(instrument_id=instrument.id, timeframe=timeframe)
    return FillReport(gaps=len(gaps), inserted=inserted, still_missing=len(after[0].gaps) if after else 0)
