"""Candle backfill, account set-up checks, pacing, symbols and timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs

import pytest

from brokers.errors import BrokerAuthError, BrokerNotFoundError
from brokers.oanda import from_broker_symbol, to_broker_symbol
from brokers.oanda.timefmt import format_rfc3339, format_unix, parse_time
from tests.support.fake_oanda import make_candles

START = datetime(2024, 3, 4, 0, 0, tzinfo=UTC)  # a Monday
GAP = (START + timedelta(minutes=5000), START + timedelta(minutes=5060))


def test_backfill_of_10000_candles_with_a_gap_is_complete_ordered_and_paged(fake, client):
    fake.set_candles("EURUSD", "M1", make_candles(start=START, count=10_001, gaps=[GAP], last_incomplete=True))

    bars = list(client.iter_candles("EURUSD", "M1", START, price="BA"))

    times = [b.time for b in bars]
    steps = [b - a for a, b in zip(times, times[1:], strict=False)]
    queries = [parse_qs(r.query) for r in fake.requests if r.path.endswith("/candles")]
    assert len(bars) == 10_000
    assert times == sorted(set(times))
    assert steps.count(timedelta(minutes=61)) == 1
    assert all(s == timedelta(minutes=1) for s in steps if s != timedelta(minutes=61))
    assert not any(GAP[0] <= t < GAP[1] for t in times)
    assert all(b.complete for b in bars)
    assert all(b.bid is not None and b.ask is not None and b.mid is None for b in bars)
    assert bars[0].ask.o - bars[0].bid.o == Decimal("0.00010")  # type: ignore[union-attr]
    assert len(queries) >= 2
    assert all(q["count"] == ["5000"] for q in queries)
    assert queries[0]["includeFirst"] == ["true"]
    assert all(q["includeFirst"] == ["false"] for q in queries[1:])


def test_backfill_stops_at_end_and_accepts_unix_times(fake, client):
    candles = make_candles(start=START, count=100)
    for c in candles:
        c["time"] = format_unix(parse_time(c["time"]))
    fake.set_candles("EURUSD", "M1", candles)

    bars = list(client.iter_candles("EURUSD", "M1", START + timedelta(minutes=10), START + timedelta(minutes=20)))

    assert [b.time for b in bars] == [START + timedelta(minutes=m) for m in range(10, 20)]
    assert bars[0].mid is not None and bars[0].bid is None


def test_candle_count_over_5000_is_refused_by_the_fake_like_oanda(fake, client):
    from brokers.errors import BrokerRejectedError

    with pytest.raises(ValueError):
        list(client.iter_candles("EURUSD", "M1", START, page_size=5001))
    with pytest.raises(BrokerRejectedError):
        client._http.request("GET", "/v3/instruments/EUR_USD/candles", params={"count": "5001"})


def test_check_credentials_accepts_a_good_pair(fake, client):
    state = client.check_credentials()

    assert (state.currency, state.balance, state.hedging_enabled) == ("USD", Decimal("100000.0000"), False)


def test_check_credentials_says_the_token_is_refused(fake, make_client):
    client = make_client(fake, token="wrong", environment="practice")

    with pytest.raises(BrokerAuthError, match="token refused by OANDA practice"):
        client.check_credentials()


def test_check_credentials_lists_available_accounts_for_an_unknown_id(fake, make_client):
    client = make_client(fake, account_id="101-004-0000000-009")

    with pytest.raises(BrokerNotFoundError) as info:
        client.check_credentials()

    message = str(info.value)
    assert "account 101-004-0000000-009 not found for this token" in message
    assert "101-004-1000001-001" in message and "101-004-1000001-002" in message


def test_environment_is_derived_from_oanda_hosts(make_client, fake):
    practice = make_client(fake, base_url="https://api-fxpractice.oanda.com")
    live = make_client(fake, base_url="https://api-fxtrade.oanda.com")

    assert (practice.environment, live.environment) == ("practice", "live")


def test_pacing_sleeps_once_the_burst_is_spent(fake, make_client, sleeps):
    client = make_client(fake, pacer=None, requests_per_second=2.0, burst=1)

    for _ in range(5):
        client.get_account_state()

    assert len(sleeps.calls) >= 4
    assert sum(sleeps.calls) >= 4 / 2.0
    assert fake.count("GET", "/summary") == 5


@pytest.mark.parametrize(
    ("symbol", "instrument"),
    [("EURUSD", "EUR_USD"), ("USDJPY", "USD_JPY"), ("XAUUSD", "XAU_USD"), ("DE30EUR", "DE30_EUR")],
)
def test_symbols_round_trip(symbol, instrument):
    assert to_broker_symbol(symbol) == instrument
    assert from_broker_symbol(instrument) == symbol


def test_nanosecond_and_unix_times_parse_to_truncated_utc():
    rfc = parse_time("2016-10-24T21:48:18.593753865Z")
    unix = parse_time("1491201560.123456789")

    assert rfc == datetime(2016, 10, 24, 21, 48, 18, 593753, tzinfo=UTC)
    assert unix == datetime(2017, 4, 3, 6, 39, 20, 123456, tzinfo=UTC)
    assert format_rfc3339(rfc) == "2016-10-24T21:48:18.593753000Z"
    assert parse_time(format_unix(rfc)) == rfc


def test_client_reads_unix_datetime_format_answers(fake, make_client):
    from brokers.oanda.http import OandaHttp

    http = OandaHttp(base_url=fake.url, token=fake.token, datetime_format="UNIX")
    body = http.request("GET", f"/v3/accounts/{fake.account_id}/pricing", params={"instruments": "EUR_USD"}).body
    http.close()

    from brokers.oanda.parse import quote

    assert "." in body["prices"][0]["time"] and "T" not in body["prices"][0]["time"]
    assert quote(body["prices"][0]).time.tzinfo is not None
