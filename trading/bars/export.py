"""Export bars to CSV: ``time,open,high,low,close,volume,spread,complete`` with ISO UTC times.

Prices are written from integer points with exactly the instrument's digits, so an export re-imports to
the same points (``bars_import(fmt="csv")``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from trading.models import Bar, Instrument

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

HEADER = "time,open,high,low,close,volume,spread,complete\n"


def _price(points: int, digits: int) -> str:
    sign = "-" if points < 0 else ""
    text = str(abs(points)).rjust(digits + 1, "0")
    return f"{sign}{text[:-digits]}.{text[-digits:]}" if digits else f"{sign}{text}"


def bars_export(
    *,
    out: SupportsWrite[str],
    instrument: Instrument,
    timeframe: int,
    start: datetime | None = None,
    end: datetime | None = None,
) -> int:
    """Write the bars of one series in [start, end] to ``out``; return how many were written."""
    rows = Bar.objects.filter(instrument=instrument, timeframe=timeframe).order_by("time")
    if start is not None:
        rows = rows.filter(time__gte=start)
    if end is not None:
        rows = rows.filter(time__lte=end)
    out.write(HEADER)
    digits = instrument.digits
    count = 0
    for t, o, h, lo, c, v, spread, complete in rows.values_list(
        "time", "open", "high", "low", "close", "volume", "spread", "complete"
    ).iterator(chunk_size=10_000):
        out.write(
            f"{t.astimezone(UTC):%Y-%m-%d %H:%M:%S},{_price(o, digits)},{_price(h, digits)},"
            f"{_price(lo, digits)},{_price(c, digits)},{v},{'' if spread is None else spread},"
            f"{int(complete)}\n"
        )
        count += 1
    return count
