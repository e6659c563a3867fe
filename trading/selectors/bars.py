"""Bars of one instrument and timeframe (market data is shared, not owned)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from trading.models import Bar, Instrument


def bar_list(
    *, instrument: Instrument, timeframe: int, start: datetime | None = None, end: datetime | None = None
) -> QuerySet[Bar]:
    """Return bars oldest first; ``start`` and ``end`` bound the open time, both inclusive."""
    qs = Bar.objects.filter(instrument=instrument, timeframe=timeframe).select_related("instrument")
    if start is not None:
        qs = qs.filter(time__gte=start)
    if end is not None:
        qs = qs.filter(time__lte=end)
    return qs.order_by("time")
