"""OANDA candles become bars: backfill of a range, keeping current, and fill_bar_gaps with OANDA as source."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta

from django.core.management import call_command

from tests.support.fake_oanda import make_candles
from trading.models import Bar
from trading.venues.oanda.bars import bars_keep_current, oanda_backfill

START = datetime(2024, 1, 2, 0, 0, tzinfo=UTC)  # a Tuesday: no weekend inside the first days


def _points(instrument) -> list[tuple]:
    return list(
        Bar.objects.filter(instrument=instrument, timeframe=1)
        .order_by("time")
        .values_list("time", "open", "close", "spread", "complete")
    )


def test_backfill_of_a_range_stores_complete_bid_bars_with_the_spread(fake, oanda_account, oanda_eurusd):
    fake.set_candles("EUR_USD", "M1", make_candles(start=START, count=12000))
    end = START + timedelta(minutes=12000)

    started = time.perf_counter()
    report = oanda_backfill(instrument=oanda_eurusd, timeframe=1, start=START, end=end)
    seconds = time.perf_counter() - started
    again = oanda_backfill(instrument=oanda_eurusd, timeframe=1, start=START, end=end)

    stored = _points(oanda_eurusd)
    assert report.fetched == len(stored) > 5000  # more than one page of 5,000
    assert report.inserted == len(stored)
    assert again.inserted == 0 and again.updated == 0
    assert stored[0][0] >= START and stored[-1][0] < end
    assert all(complete for *_, complete in stored)
    assert all(spread is not None and spread >= 0 for *_, spread, _ in stored)
    assert fake.count("GET", "/candles") >= 3
    print(f"\nbackfill: {report.fetched} M1 bars in {seconds:.2f}s ({report.fetched / seconds:,.0f} bars/s)")


def test_keep_current_and_fill_gaps_through_the_command(fake, oanda_account, oanda_eurusd):
    fake.set_candles("EUR_USD", "M1", make_candles(start=START, count=600))
    oanda_backfill(instrument=oanda_eurusd, timeframe=1, start=START, end=START + timedelta(minutes=600))
    full = len(_points(oanda_eurusd))
    Bar.objects.filter(
        instrument=oanda_eurusd, time__gte=START + timedelta(minutes=100), time__lt=START + timedelta(minutes=130)
    ).delete()
    Bar.objects.filter(instrument=oanda_eurusd, time__gte=START + timedelta(minutes=590)).delete()
    out = io.StringIO()

    call_command("fill_bar_gaps", "--instrument", "EURUSD", "--timeframe", "M1", "--broker", "oanda", stdout=out)
    current = bars_keep_current(instrument=oanda_eurusd, timeframe=1)

    assert "1 gaps, " in out.getvalue() and "0 gaps left" in out.getvalue()
    assert current.inserted > 0
    assert len(_points(oanda_eurusd)) == full
