from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from tests.trading.bars.conftest import utc
from trading.bars.brokertime import (
    BROKER_TIMEZONES,
    Year2038Error,
    framework_time,
    framework_times,
    from_framework_time,
)


def wall(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())


@pytest.mark.parametrize(
    ("instant", "broker_tz", "expected"),
    [
        (utc(2024, 1, 15, 12, 0), "UTC", wall(2024, 1, 15, 12, 0)),
        (utc(2024, 1, 15, 12, 0), "OANDA", wall(2024, 1, 15, 7, 0)),  # EST, UTC-5
        (utc(2024, 7, 15, 12, 0), "OANDA", wall(2024, 7, 15, 8, 0)),  # EDT, UTC-4
        (utc(2024, 1, 15, 12, 0), "MT_GMT2_US_DST", wall(2024, 1, 15, 14, 0)),
        (utc(2024, 7, 15, 12, 0), "MT_GMT2_US_DST", wall(2024, 7, 15, 15, 0)),
        # 2024-03-20: the US is on summer time, Europe not yet.
        (utc(2024, 3, 20, 12, 0), "MT_GMT2_US_DST", wall(2024, 3, 20, 15, 0)),
        (utc(2024, 3, 20, 12, 0), "MT_GMT2_EU_DST", wall(2024, 3, 20, 14, 0)),
    ],
)
def test_framework_time_is_broker_wall_clock_encoded_as_epoch(instant, broker_tz, expected):
    assert framework_time(instant, broker_tz) == expected
    assert from_framework_time(expected, broker_tz) == instant


def test_framework_time_around_the_us_dst_change():
    # Sunday 2024-03-10 02:00 New York: EST → EDT. The 17:00 New York open moves from 22:00 to 21:00 UTC.
    assert framework_time(utc(2024, 3, 8, 22, 0), "MT_GMT2_US_DST") == wall(2024, 3, 9, 0, 0)
    assert framework_time(utc(2024, 3, 10, 21, 0), "MT_GMT2_US_DST") == wall(2024, 3, 11, 0, 0)
    assert framework_time(utc(2024, 3, 10, 21, 0), "OANDA") == wall(2024, 3, 10, 17, 0)


def test_framework_times_vectorised_matches_scalar_over_two_years():
    seconds = np.arange(wall(2023, 1, 1), wall(2025, 1, 1), 3571, dtype=np.int64)
    for name in BROKER_TIMEZONES:
        expected = [framework_time(datetime.fromtimestamp(int(s), tz=UTC), name) for s in seconds[::97]]
        assert framework_times(seconds, name)[::97].tolist() == expected


def test_framework_time_refuses_times_past_2038():
    with pytest.raises(Year2038Error, match=r"2038-01-19T03:14:08\+00:00 .*int32 seconds"):
        framework_time(utc(2038, 1, 19, 3, 14, 8))
    assert framework_time(utc(2038, 1, 19, 3, 14, 7)) == 2**31 - 1


def test_framework_time_refuses_when_the_broker_clock_crosses_2038():
    # 01:00 UTC is still in range as UTC, but is 03:00+ on a GMT+2 clock.
    with pytest.raises(Year2038Error, match="MT_GMT2_US_DST clock"):
        framework_time(utc(2038, 1, 19, 2, 0), "MT_GMT2_US_DST")


def test_framework_times_refuses_arrays_past_2038():
    with pytest.raises(Year2038Error, match="2038-02-01"):
        framework_times(np.array([wall(2038, 1, 1), wall(2038, 2, 1)]))


def test_framework_time_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="naive"):
        framework_time(datetime(2024, 1, 1))  # noqa: DTZ001
