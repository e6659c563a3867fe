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
        0,
        8,
        16,
        24,
        32,
        40,
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

    crates = bars_as_crates(
        instrument_id=usdjpy.id,
        timeframe=60,
        count=10,
        end=start + timedelta(hours=2),
        broker_tz="MT_GMT2_US_DST",
        use_cache=False,
    )

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
    assert (
        ended.tobytes()
        == bars_as_crates(
            instrument_id=eurusd.id, timeframe=5, count=5, end=utc(2024, 1, 2, 1, 0), use_cache=False
        ).tobytes()
    )
    assert ended["time"][-1] == framework_time(utc(2024, 1, 2, 1, 0))


def test_bars_as_arrays_returns_utc_times_and_prices(eurusd):
    start = utc(2024, 1, 2)
    make_bars(eurusd, 1, start, 4)

    arrays = bars_as_arrays(instrument_id=eurusd.id, timeframe=1, start=start + timedelta(minutes=1))

    assert arrays.time.tolist() == [
        np.datetime64("2024-01-02T00:01"),
        np.datetime64("2024-01-02T00:02"),
        np.datetime64("2024-01-02T00:03"),
    ]
    assert arrays.close.tolist() == [1.10002, 1.10003, 1.10004]


def _bar(instrument, timeframe: int, time, o: int, h: int, lo: int, c: int, v: int, *, complete: bool = True):
    from trading.models import Bar

    return Bar(
        instrument=instrument,
        timeframe=timeframe,
        time=time,
        open=o,
        high=h,
        low=lo,
        close=c,
        volume=v,
        complete=complete,
    )


def _orm_crates(instrument, timeframe: int, count: int, broker_tz: str = "UTC") -> np.ndarray:
    """The slow, obvious reading: model instances, newest ``count`` complete ones, converted one by one."""
    from trading.models import Bar

    bars = list(
        Bar.objects.filter(instrument=instrument, timeframe=timeframe, complete=True).order_by("-time")[:count]
    )[::-1]
    out = np.zeros(len(bars), dtype=CRATES_DTYPE)
    scale = 10**instrument.digits
    for i, bar in enumerate(bars):
        out[i] = (
            bar.open / scale,
            bar.high / scale,
            bar.low / scale,
            bar.close / scale,
            float(bar.volume),
            framework_time(bar.time, broker_tz),
        )
    return out


def test_read_path_equals_the_orm_reading_across_gaps_and_other_series(eurusd, usdjpy):
    from trading.models import Bar

    rng = np.random.default_rng(7)
    start = utc(2024, 3, 8, 20, 0)  # a Friday evening: the series has the weekend gap in it
    times = [start + timedelta(minutes=m) for m in range(90)] + [
        start + timedelta(days=2, minutes=m) for m in range(60)
    ]
    rows = []
    for instrument in (eurusd, usdjpy):
        for t in times:
            o, c = (int(x) for x in rng.integers(9_000, 2_000_000, 2))
            rows.append(_bar(instrument, 1, t, o, max(o, c) + 3, min(o, c) - 2, c, int(rng.integers(0, 10**12))))
    rows.append(_bar(usdjpy, 1, times[-1] + timedelta(minutes=1), 150000, 150001, 149999, 150000, 1, complete=False))
    rows.append(_bar(usdjpy, 5, times[-1] + timedelta(minutes=5), 150000, 150001, 149999, 150000, 1))
    Bar.objects.bulk_create(rows)

    for count in (1, 59, 60, 61, 150, 500):
        for broker_tz in ("UTC", "MT_GMT2_US_DST"):
            fast = bars_as_crates(
                instrument_id=usdjpy.id, timeframe=1, count=count, broker_tz=broker_tz, use_cache=False
            )
            assert fast.tobytes() == _orm_crates(usdjpy, 1, count, broker_tz).tobytes(), (count, broker_tz)
    assert len(bars_as_crates(instrument_id=usdjpy.id, timeframe=1, count=500, use_cache=False)) == 150
    arrays = bars_as_arrays(instrument_id=eurusd.id, timeframe=1)
    assert arrays.time.tolist() == [np.datetime64(t.replace(tzinfo=None), "s") for t in times]
    assert arrays.open.tolist() == [b.open / 10**5 for b in Bar.objects.filter(instrument=eurusd).order_by("time")]


def test_read_path_returns_empty_typed_arrays_when_nothing_matches(eurusd):
    make_bars(eurusd, 60, utc(2024, 1, 2), 5)

    no_series = bars_as_crates(instrument_id=eurusd.id, timeframe=15, count=10, use_cache=False)
    before_first = bars_as_crates(instrument_id=eurusd.id, timeframe=60, count=10, end=utc(2024, 1, 1), use_cache=False)
    zero = bars_as_crates(instrument_id=eurusd.id, timeframe=60, count=0, use_cache=False)
    empty_range = bars_as_arrays(
        instrument_id=eurusd.id, timeframe=60, start=utc(2024, 1, 2, 0, 30), end=utc(2024, 1, 2, 0, 59)
    )

    for crates in (no_series, before_first, zero):
        assert crates.dtype == CRATES_DTYPE
        assert len(crates) == 0
    assert len(empty_range.time) == 0
    assert empty_range.time.dtype == np.dtype("datetime64[s]")


def test_read_path_range_is_inclusive_at_both_ends(eurusd):
    start = utc(2024, 1, 2)
    make_bars(eurusd, 60, start, 6)

    arrays = bars_as_arrays(
        instrument_id=eurusd.id, timeframe=60, start=start + timedelta(hours=1), end=start + timedelta(hours=3)
    )
    last_two = bars_as_arrays(instrument_id=eurusd.id, timeframe=60, count=2, end=start + timedelta(hours=3))

    assert arrays.time.tolist() == [np.datetime64(f"2024-01-02T0{h}:00") for h in (1, 2, 3)]
    assert last_two.time.tolist() == [np.datetime64(f"2024-01-02T0{h}:00") for h in (2, 3)]


def test_read_path_still_refuses_bars_past_2038_for_the_framework(eurusd):
    from trading.bars.brokertime import Year2038Error

    make_bars(eurusd, 60, utc(2038, 1, 19, 2, 0), 3)  # 02:00, 03:00 and 04:00, past 03:14:07

    with pytest.raises(Year2038Error, match="2038-01-19T04:00:00"):
        bars_as_crates(instrument_id=eurusd.id, timeframe=60, count=3, use_cache=False)
    assert (
        len(bars_as_crates(instrument_id=eurusd.id, timeframe=60, count=3, end=utc(2038, 1, 19, 3), use_cache=False))
        == 2
    )
    assert bars_as_arrays(instrument_id=eurusd.id, timeframe=60).time[-1] == np.datetime64("2038-01-19T04:00")


@pytest.mark.parametrize("descending", [False, True])
def test_rows_handed_over_out_of_order_are_put_in_time_order(descending):
    from trading.bars.read import _PG_ROW, _in_time_order

    raw = np.zeros(6, dtype=_PG_ROW)
    raw["time"] = [30, 10, 60, 20, 50, 40]
    raw["open"] = raw["time"] * 2

    ordered = _in_time_order(raw, descending=descending)

    expected = [60, 50, 40, 30, 20, 10] if descending else [10, 20, 30, 40, 50, 60]
    assert ordered["time"].tolist() == expected
    assert (ordered["open"] == ordered["time"] * 2).all()
