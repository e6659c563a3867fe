from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from tests.trading.bars.conftest import make_bars, utc
from trading.bars.brokertime import framework_time
from trading.bars.read import CRATES_DTYPE, bars_as_arrays, bars_as_crates

pytestmark = pytest.mark.django_db


def test_crates_dtype_matches_the_abi_layout():
    assert CRATES_DTYPE.itemsize == 48
    assert [CRATES_DTYPE.fields[n][1] for n in ("open", "high", "low", "close", "volume", "time")] == [
        0, 8, 16, 24, 32, 40,
    ]


def test_crates_dtype_equals_framework_binding_dtype():
    framework = pytest.importorskip("framework")
    if not hasattr(framework, "CRATES_DTYPE"):
        pytest.skip("framework does not export CRATES_DTYPE yet")
    assert framework.CRATES_DTYPE == CRATES_DTYPE


def test_bars_as_crates_returns_last_complete_bars_oldest_first(eurusd):
    start = utc(2024, 1, 2, 0, 0)
    make_bars(eurusd, 60, start, 10)
    make_bars(eurusd, 60, start + timedelta(hours=10), 1, base=120000, complete=False)

    crates = bars_as_crates(instrument_id=eurusd.id, timeframe=60, count=3, use_cache=False)

    assert crates.dtype == CRATES_DTYPE
    assert crates.flags["C_CONTIGUOUS"]
    assert crates["open"].tolist() == [1.10007, 1.10008, 1.10009]
    assert crates["high"].tolist() == [1.10012, 1.10013, 1.10014]
    assert crates["close"].tolist() == [1.10008, 1.10009, 1.10010]
    assert crates["volume"].tolist() == [17.0, 18.0, 19.0]
    assert crates["time"].tolist() == [framework_time(start + timedelta(hours=h)) for h in (7, 8, 9)]


def test_bars_as_crates_stops_at_end_and_converts_to_broker_clock(usdjpy):
    start = utc(2024, 7, 1, 0, 0)
    make_bars(usdjpy, 60, start, 5, base=161000)

    crates = bars_as_crates(instrument_id=usdjpy.id, timeframe=60, count=10, end=start + timedelta(hours=2),
                            broker_tz="MT_GMT2_US_DST", use_cache=False)

    assert len(crates) == 3
    assert crates["open"].tolist() == [161.0, 161.001, 161.002]
    # US summer time: the GMT+2/+3 broker clock is UTC+3.
    assert crates["time"].tolist() == [int((start + timedelta(hours=h + 3)).timestamp()) for h in range(3)]


def test_bars_as_crates_cached_equals_uncached(eurusd):
    make_bars(eurusd, 5, utc(2024, 1, 2), 50)

    first = bars_as_crates(instrument_id=eurusd.id, timeframe=5, count=20)
    cached = bars_as_crates(instrument_id=eurusd.id, timeframe=5, count=20)
    direct = bars_as_crates(instrument_id=eurusd.id, timeframe=5, count=20, use_cache=False)
    ended = bars_as_crates(instrument_id=eurusd.id, timeframe=5, count=5, end=utc(2024, 1, 2, 1, 0))

    assert first.tobytes() == cached.tobytes() == direct.tobytes()
    assert ended.tobytes() == bars_as_crates(
        instrument_id=eurusd.id, timeframe=5, count=5, end=utc(2024, 1, 2, 1, 0), use_cache=False
    ).tobytes()
    assert ended["time"][-1] == framework_time(utc(2024, 1, 2, 1, 0))


def test_bars_as_arrays_returns_utc_times_and_prices(eurusd):
    start = utc(2024, 1, 2)
    make_bars(eurusd, 1, start, 4)

    arrays = bars_as_arrays(instrument_id=eurusd.id, timeframe=1, start=start + timedelta(minutes=1))

    assert arrays.time.tolist() == [np.datetime64("2024-01-02T00:01"), np.datetime64("2024-01-02T00:02"),
                                    np.datetime64("2024-01-02T00:03")]
    assert arrays.close.tolist() == [1.10002, 1.10003, 1.10004]
