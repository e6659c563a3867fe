from __future__ import annotations

import numpy as np
import pytest
from django.core.cache import cache
from django.db import connection

from tests.trading.bars.conftest import utc
from trading.bars.cache import cache_key
from trading.bars.read import bars_as_crates
from trading.bars.store import BarRow, bars_upsert
from trading.bars.timeframes import BAR_DTYPE
from trading.models import Bar

pytestmark = pytest.mark.django_db(transaction=True)


def series(start, count, *, base=110000, step=60, spread=-1):
    bars = np.zeros(count, dtype=BAR_DTYPE)
    bars["time"] = int(start.timestamp()) + np.arange(count) * step
    bars["open"] = base + np.arange(count)
    bars["high"] = bars["open"] + 7
    bars["low"] = bars["open"] - 3
    bars["close"] = bars["open"] + 2
    bars["volume"] = 5
    bars["spread"] = spread
    bars["complete"] = True
    return bars


def test_bars_upsert_inserts_a_new_range_with_copy(eurusd):
    report = bars_upsert(instrument_id=eurusd.id, timeframe=1, bars=series(utc(2024, 1, 2), 100, spread=12))

    assert (report.rows, report.inserted, report.updated, report.unchanged) == (100, 100, 0, 0)
    last = Bar.objects.get(instrument=eurusd, timeframe=1, time=utc(2024, 1, 2, 1, 39))
    assert (last.open, last.high, last.low, last.close, last.volume, last.spread, last.complete) == (
        110099,
        110106,
        110096,
        110101,
        5,
        12,
        True,
    )


def test_bars_upsert_overlap_updates_instead_of_duplicating(eurusd):
    bars_upsert(instrument_id=eurusd.id, timeframe=1, bars=series(utc(2024, 1, 2), 10))
    again = series(utc(2024, 1, 2, 0, 5), 10, base=110005)  # 5 overlap (2 of them corrected), 5 new
    again["close"][0] += 1
    again["high"][1] += 4

    report = bars_upsert(instrument_id=eurusd.id, timeframe=1, bars=again)

    assert (report.rows, report.inserted, report.updated, report.unchanged) == (10, 5, 2, 3)
    assert Bar.objects.filter(instrument=eurusd, timeframe=1).count() == 15
    assert Bar.objects.get(instrument=eurusd, timeframe=1, time=utc(2024, 1, 2, 0, 5)).close == 110008
    assert Bar.objects.get(instrument=eurusd, timeframe=1, time=utc(2024, 1, 2, 0, 6)).high == 110006 + 7 + 4


def test_bars_upsert_accepts_bar_rows_with_unknown_spread(eurusd):
    rows = [
        BarRow(time=utc(2024, 1, 2, 0, m), open=110000, high=110010, low=109990, close=110005, spread=None if m else 9)
        for m in range(3)
    ]

    report = bars_upsert(instrument_id=eurusd.id, timeframe=1, bars=rows)

    assert report.inserted == 3
    assert list(Bar.objects.filter(instrument=eurusd).values_list("spread", flat=True)) == [9, None, None]


def test_bars_upsert_invalidates_the_cached_window_on_correction(eurusd):
    bars_upsert(instrument_id=eurusd.id, timeframe=1, bars=series(utc(2024, 1, 2), 30))
    before = bars_as_crates(instrument_id=eurusd.id, timeframe=1, count=5)
    assert cache.get(cache_key(eurusd.id, 1, "UTC")) is not None
    fix = series(utc(2024, 1, 2, 0, 29), 1, base=110029)
    fix["close"] = fix["open"] + 5

    bars_upsert(instrument_id=eurusd.id, timeframe=1, bars=fix)
    after = bars_as_crates(instrument_id=eurusd.id, timeframe=1, count=5)

    assert before["close"][-1] == pytest.approx(1.10031)
    assert after["close"][-1] == pytest.approx(1.10034)


def test_bars_upsert_invalidates_the_cached_window_when_a_bar_is_added(eurusd):
    bars_upsert(instrument_id=eurusd.id, timeframe=1, bars=series(utc(2024, 1, 2), 30))
    bars_as_crates(instrument_id=eurusd.id, timeframe=1, count=5, broker_tz="OANDA")

    bars_upsert(instrument_id=eurusd.id, timeframe=1, bars=series(utc(2024, 1, 2, 0, 30), 1, base=120000))
    after = bars_as_crates(instrument_id=eurusd.id, timeframe=1, count=5, broker_tz="OANDA")

    assert after["open"][-1] == pytest.approx(1.2)
    assert len(after) == 5


def test_bars_upsert_rolls_back_everything_on_a_database_error(eurusd):
    bad = series(utc(2024, 1, 2), 5)
    bad["low"][3] = bad["high"][3] + 1  # violates the OHLC check constraint

    with pytest.raises(Exception, match="bar_ohlc_consistent"):
        bars_upsert(instrument_id=eurusd.id, timeframe=1, bars=bad)

    assert not Bar.objects.filter(instrument=eurusd).exists()


def test_bars_upsert_of_nothing_is_a_no_op(eurusd):
    report = bars_upsert(instrument_id=eurusd.id, timeframe=1, bars=[])

    assert report.rows == 0


def test_bars_upsert_refuses_duplicate_times(eurusd):
    bars = series(utc(2024, 1, 2), 3)
    bars["time"][2] = bars["time"][1]

    with pytest.raises(ValueError, match="same time twice"):
        bars_upsert(instrument_id=eurusd.id, timeframe=1, bars=bars)


def test_bars_upsert_reports_progress_over_chunks_with_and_without_spread(eurusd):
    bars = series(utc(2024, 1, 2), 250_000)
    bars["spread"][150_000:151_000] = 9  # rows with a spread and NULL spreads in one COPY stream
    seen = []

    report = bars_upsert(
        instrument_id=eurusd.id, timeframe=1, bars=bars, progress=lambda done, total: seen.append((done, total))
    )

    assert report.inserted == 250_000
    if connection.vendor == "postgresql":
        assert seen == [(100_000, 250_000), (200_000, 250_000), (250_000, 250_000)]
    else:
        assert seen == [(250_000, 250_000)]
    assert Bar.objects.filter(instrument=eurusd, timeframe=1).count() == 250_000
    assert Bar.objects.filter(instrument=eurusd, timeframe=1, spread=9).count() == 1_000
    last = Bar.objects.filter(instrument=eurusd, timeframe=1).order_by("-time").first()
    assert (int(last.time.timestamp()), last.open, last.spread) == (int(bars["time"][-1]), 110000 + 249_999, None)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans")
def test_after_a_big_import_reads_go_through_the_primary_key_index(eurusd):
    from trading.bars.read import pg_query

    bars_upsert(instrument_id=eurusd.id, timeframe=1, bars=series(utc(2024, 1, 2), 100_000))
    queries = [
        pg_query(eurusd.id, 1, count=50_000),
        pg_query(eurusd.id, 1, count=1_000, end=utc(2024, 2, 1)),
        pg_query(eurusd.id, 1, start=utc(2024, 1, 10), end=utc(2024, 1, 20)),
        pg_query(eurusd.id, 1),
    ]
    plans = []
    with connection.cursor() as cursor:
        for sql, params in queries:
            cursor.execute("EXPLAIN " + sql, params)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))

    for plan in plans:
        assert "Index Scan" in plan and "using trading_bar_pkey" in plan, plan
        assert "Sort" not in plan, plan  # the index gives the order; no sort of the series
