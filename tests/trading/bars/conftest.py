"""Fixtures for the market data tests: bar series built by hand, in integer points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def make_bars(instrument, timeframe: int, start: datetime, count: int, *, base: int = 110000, complete: bool = True):
    """Create ``count`` consecutive bars (no weekend skipping) whose close rises by one point a bar."""
    from trading.models import Bar

    bars = []
    for i in range(count):
        price = base + i
        bars.append(
            Bar(
                instrument=instrument,
                timeframe=timeframe,
                time=start + timedelta(minutes=timeframe * i),
                open=price,
                high=price + 5,
                low=price - 5,
                close=price + 1,
                volume=10 + i,
                complete=complete,
            )
        )
    return Bar.objects.bulk_create(bars)


@pytest.fixture
def data_dir() -> Path:
    return DATA
