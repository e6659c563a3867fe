"""Bars (market data is shared, not owned) and the coverage of the series a user's instances read."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from trading.bars.coverage import CoverageRow, bars_coverage
from trading.models import Bar, Instrument, StrategyInstance
from trading.permissions import accounts_q
from trading.selectors.accounts import User


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


def bar_series_for_user(*, user: User) -> list[tuple[int, int]]:
    """Return the (instrument id, timeframe) series the user's instances read: primary and rates slots."""
    if not user.is_authenticated:
        return []
    series: set[tuple[int, int]] = set()
    symbols = dict(Instrument.objects.values_list("symbol", "id"))
    for instance in StrategyInstance.objects.filter(accounts_q(user, via="account__")).select_related("instrument"):
        series.add((instance.instrument_id, instance.timeframe))
        for slot in instance.slot_list():
            instrument_id = symbols.get(slot.get("symbol") or instance.instrument.symbol)
            if instrument_id is not None and isinstance(slot.get("timeframe"), int):
                series.add((instrument_id, slot["timeframe"]))
    return sorted(series)


def bar_coverage_for_user(*, user: User, with_gaps: bool = False) -> list[CoverageRow]:
    """Return bar coverage (first, last, count, optionally gaps) of the series the user's instances read."""
    rows: list[CoverageRow] = []
    for instrument_id, timeframe in bar_series_for_user(user=user):
        rows.extend(bars_coverage(instrument_id=instrument_id, timeframe=timeframe, with_gaps=with_gaps))
    return rows
