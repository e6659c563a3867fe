from __future__ import annotations

from datetime import timedelta

import pytest

from tests.trading.bars.conftest import utc
from trading.bars.guard import StaleDataError, bars_check_fresh


def test_fresh_h1_bar_passes():
    bars_check_fresh(instrument_id=1, timeframe=60, now=utc(2024, 1, 16, 11, 30), last_bar_time=utc(2024, 1, 16, 10))


def test_missing_h1_bar_is_stale_and_says_why():
    with pytest.raises(StaleDataError) as caught:
        bars_check_fresh(
            instrument_id=7, timeframe=60, now=utc(2024, 1, 16, 12, 10), last_bar_time=utc(2024, 1, 16, 10)
        )

    error = caught.value
    assert (error.instrument_id, error.timeframe, error.last_bar_time) == (7, 60, utc(2024, 1, 16, 10))
    assert error.market_age == timedelta(hours=1, minutes=10)
    assert error.allowed == timedelta(hours=1, minutes=5)
    assert "instrument 7 timeframe 60m" in str(error)
    assert "2024-01-16 10:00 UTC" in str(error)


def test_friday_close_bar_is_fresh_on_sunday_open():
    # Friday 2024-01-19 16:00 New York is 21:00 UTC: the last H1 bar of the week. Sunday 17:30 New York.
    bars_check_fresh(instrument_id=1, timeframe=60, now=utc(2024, 1, 21, 22, 30), last_bar_time=utc(2024, 1, 19, 21))


def test_weekend_does_not_excuse_a_missing_friday_bar():
    with pytest.raises(StaleDataError):
        bars_check_fresh(
            instrument_id=1, timeframe=60, now=utc(2024, 1, 21, 22, 30), last_bar_time=utc(2024, 1, 19, 19)
        )


def test_christmas_is_not_counted_as_market_time():
    # D1 bar of Friday 2023-12-22 (opens Thursday 17:00 New York); the next trading day starts on 26 Dec.
    bars_check_fresh(instrument_id=1, timeframe=1440, now=utc(2023, 12, 26, 21, 0), last_bar_time=utc(2023, 12, 21, 22))
    # Once the 26 Dec bar has closed (17:00 New York = 22:00 UTC) it must be there.
    with pytest.raises(StaleDataError):
        bars_check_fresh(
            instrument_id=1, timeframe=1440, now=utc(2023, 12, 26, 22, 10), last_bar_time=utc(2023, 12, 21, 22)
        )


def test_no_bars_at_all_is_stale():
    with pytest.raises(StaleDataError, match="no complete bars"):
        bars_check_fresh(instrument_id=1, timeframe=1, now=utc(2024, 1, 16), last_bar_time=None)
