"""Candles of every granularity the platform uses, cut on our bar grid, with weekend gaps and complete flags.

The fake serves a synthetic market for every granularity (closed Friday 17:00 to Sunday 17:00 New York)
and cuts candles by OANDA's alignment parameters; our bars' bucket rules (``trading/bars/timeframes.py``)
are an independent reading of the same grid, so the two must agree for H4, D1 and W1.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest

from brokers.errors import BrokerRejectedError
from brokers.oanda.candles import PLATFORM_ALIGNMENT, CandleAlignment
from trading.bars.timeframes import bucket_start
from trading.models.enums import Timeframe

NEW_YORK = ZoneInfo("America/New_York")
PLATFORM_GRANULARITIES = ("M1", "M5", "M15", "M30", "H1", "H4", "D", "W", "M")
WEDNESDAY_NOON = datetime(2024, 3, 13, 12, 0, 30, tzinfo=UTC)


def closed(t: datetime) -> bool:
    local = t.astimezone(NEW_YORK)
    return (
        local.weekday() == 5
        or (local.weekday() == 4 and local.hour >= 17)
        or (local.weekday() == 6 and local.hour < 17)
    )


def candles_raw(client, granularity: str, **params: str) -> list[dict]:
    query = {"granularity": granularity, "price": "M", **PLATFORM_ALIGNMENT.params(granularity), **params}
    return client._http.request("GET", "/v3/instruments/EUR_USD/candles", params=query).body["candles"]


@pytest.mark.parametrize("granularity", PLATFORM_GRANULARITIES)
def test_every_granularity_has_history_and_only_the_forming_candle_is_incomplete(fake, client, granularity):
    fake.set_time(WEDNESDAY_NOON)

    rows = candles_raw(client, granularity, count="40")

    times = [datetime.fromisoformat(r["time"][:19] + "+00:00") for r in rows]
    assert len(rows) == 40
    assert [r["complete"] for r in rows] == [True] * 39 + [False]
    assert times[-1] <= WEDNESDAY_NOON and times == sorted(set(times))
    if granularity not in ("D", "W", "M"):
        assert not any(closed(t) for t in times)


def test_intraday_candles_skip_the_weekend(fake, client):
    fake.set_time(WEDNESDAY_NOON)
    friday_close = datetime(2024, 3, 8, 22, 0, tzinfo=UTC)  # 17:00 New York (EST)
    sunday_open = datetime(2024, 3, 10, 21, 0, tzinfo=UTC)  # 17:00 New York (EDT: DST began that morning)

    m1 = [
        c.time
        for c in client.iter_candles(
            "EURUSD", "M1", friday_close - timedelta(minutes=10), sunday_open + timedelta(minutes=10)
        )
    ]
    h1 = candles_raw(client, "H1", count="200")
    h1_times = [datetime.fromisoformat(r["time"][:19] + "+00:00") for r in h1]

    assert m1[:10] == [friday_close - timedelta(minutes=10 - i) for i in range(10)]
    assert m1[10:] == [sunday_open + timedelta(minutes=i) for i in range(10)]
    assert friday_close - timedelta(hours=1) in h1_times and sunday_open in h1_times
    assert not any(friday_close <= t < sunday_open for t in h1_times)


@pytest.mark.parametrize(("granularity", "timeframe"), [("H4", Timeframe.H4), ("D", Timeframe.D1), ("W", Timeframe.W1)])
def test_day_and_week_candles_open_at_our_bar_bucket_starts_across_dst(fake, client, granularity, timeframe):
    start, end = datetime(2024, 2, 26, tzinfo=UTC), datetime(2024, 4, 8, tzinfo=UTC)  # US DST began 2024-03-10

    got = [c.time for c in client.iter_candles("EURUSD", granularity, start, end)]

    hours = (start + timedelta(hours=h) for h in range(int((end - start).total_seconds()) // 3600))
    expected = sorted({bucket_start(t, timeframe) for t in hours if not closed(t)})
    queries = [parse_qs(r.query) for r in fake.requests if r.path.endswith("/candles")]
    assert got == expected
    assert all(q["dailyAlignment"] == ["17"] and q["alignmentTimezone"] == ["America/New_York"] for q in queries)
    if granularity == "W":
        assert all(q["weeklyAlignment"] == ["Sunday"] for q in queries)
        assert len(got) == 7  # the weeks opening 2024-02-25 .. 2024-04-07 (Sundays, 17:00 New York)


def test_oanda_default_week_would_not_match_our_w1_bars(fake, client):
    """Without weeklyAlignment OANDA labels a week with the Friday close before it: not our W1 open."""
    rows = client._http.request(
        "GET", "/v3/instruments/EUR_USD/candles", params={"granularity": "W", "count": "5"}
    ).body["candles"]

    times = [datetime.fromisoformat(r["time"][:19] + "+00:00") for r in rows]
    assert all(bucket_start(t, Timeframe.W1) != t for t in times)
    assert all(t.astimezone(NEW_YORK).weekday() == 4 for t in times)  # Friday 17:00 New York


def test_minute_and_hour_granularities_send_no_alignment(fake, client):
    list(client.iter_candles("EURUSD", "H1", datetime(2024, 3, 11, tzinfo=UTC), datetime(2024, 3, 12, tzinfo=UTC)))

    query = parse_qs(fake.requests[-1].query)
    assert "dailyAlignment" not in query and "weeklyAlignment" not in query


def test_bad_alignment_is_refused_by_client_and_fake(fake, client):
    with pytest.raises(ValueError, match="weekly_alignment"):
        CandleAlignment(weekly_alignment="Funday")
    with pytest.raises(ValueError, match="daily_alignment"):
        CandleAlignment(daily_alignment=24)
    with pytest.raises(BrokerRejectedError, match="weeklyAlignment"):
        client._http.request(
            "GET", "/v3/instruments/EUR_USD/candles", params={"granularity": "W", "weeklyAlignment": "Funday"}
        )
