"""Bars from cTrader trend bars (H4 and longer derived with the FX-time rules), and prices from the stream
or a snapshot."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from brokers.base import Quote
from brokers.ctrader.stream import SpotStream
from trading.models import Bar
from trading.venues.ctrader.bars import bars_keep_current, ctrader_backfill
from trading.venues.ctrader.prices import ctrader_quote, price_namespace

from .conftest import eventually


def _minute(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


def test_m1_backfill_stores_complete_bars_in_points(fake, ctrader_account, ct_eurusd):
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    bars = [
        (_minute(now - timedelta(minutes=5 - i)), "1.10000", "1.10050", "1.09950", f"1.1001{i}", 7 + i)
        for i in range(6)  # the last one is still forming
    ]
    fake.set_trendbars("EURUSD", 1, bars)

    newest = bars_keep_current(instrument=ct_eurusd, timeframe=1)

    stored = list(Bar.objects.filter(instrument=ct_eurusd, timeframe=1).order_by("time"))
    assert [b.time for b in stored] == [now - timedelta(minutes=5 - i) for i in range(5)]
    assert newest == now - timedelta(minutes=1)
    assert (stored[0].open, stored[0].high, stored[0].low, stored[0].close) == (110000, 110050, 109950, 110010)
    assert stored[-1].close == 110014 and stored[-1].volume == 11 and stored[-1].spread is None


def test_daily_bars_are_derived_from_hours_on_the_new_york_roll(fake, ctrader_account, ct_eurusd):
    # Monday 2024-01-08 22:00 UTC is 17:00 New York (winter): the D1 bar of Tuesday 9 January opens there.
    start = datetime(2024, 1, 8, 22, tzinfo=UTC)
    hours = []
    for i in range(48):
        o = Decimal("1.10000") + Decimal(i) / 10000
        hours.append(
            (
                _minute(start + timedelta(hours=i)),
                str(o),
                str(o + Decimal("0.0005")),
                str(o - Decimal("0.0003")),
                str(o + Decimal("0.0001")),
                10,
            )
        )
    fake.set_trendbars("EURUSD", 60, hours)

    ctrader_backfill(instrument=ct_eurusd, timeframe=1440, start=start, end=start + timedelta(days=2))

    days = list(Bar.objects.filter(instrument=ct_eurusd, timeframe=1440).order_by("time"))
    assert [d.time for d in days] == [start, start + timedelta(days=1)]
    first = days[0]
    # 24 hours opening at 1.10000 + i * 0.0001: the first open 1.10000, the 24th close 1.10230 + 0.00010,
    # the highest high 1.10230 + 0.00050, the lowest low 1.10000 - 0.00030
    assert (first.open, first.close) == (110000, 110240)
    assert (first.high, first.low) == (110280, 109970)
    assert first.volume == 240


def test_quote_comes_from_the_stream_cache_when_fresh_else_from_a_snapshot(fake, ctrader_account, ct_eurusd):
    from brokers.oanda.stream import RedisPriceSink
    from trading.venues.oanda.prices import price_key_prefix, price_redis, stream_health_key

    redis = price_redis()
    assert redis is not None, "the test command runs Redis"
    namespace = price_namespace(ctrader_account)
    for key in redis.scan_iter(f"{price_key_prefix(namespace)}*"):
        redis.delete(key)
    redis.delete(stream_health_key(namespace))
    snapshot = ctrader_quote(ctrader_account, ct_eurusd)
    sink = RedisPriceSink(redis, prefix=price_key_prefix(namespace), health_key=stream_health_key(namespace))
    sink.write(Quote("EURUSD", Decimal("1.20000"), Decimal("1.20010"), datetime.now(UTC)))
    sink.write_health({"state": "streaming", "last_message_at": datetime.now(UTC).isoformat()})
    subscriptions = fake.count("ProtoOASubscribeSpotsReq")

    cached = ctrader_quote(ctrader_account, ct_eurusd)

    assert (snapshot.bid, snapshot.ask) == (Decimal("1.10000"), Decimal("1.10010"))
    assert (cached.bid, cached.ask) == (Decimal("1.20000"), Decimal("1.20010"))
    assert fake.count("ProtoOASubscribeSpotsReq") == subscriptions  # no round trip for a cached price


class _Sink:
    def __init__(self) -> None:
        self.quotes: list[Quote] = []
        self.health: dict[str, str] = {}

    def write(self, quote: Quote) -> None:
        self.quotes.append(quote)

    def write_health(self, health: dict[str, str]) -> None:
        self.health = health


def test_spot_stream_writes_prices_and_subscribes_again_after_a_reconnect(fake, direct):
    client = direct(backoff_base=0.01)
    sink = _Sink()
    stream = SpotStream(client, ["EURUSD", "USDJPY"], sink)
    stop = threading.Event()
    thread = threading.Thread(target=stream.run, args=(stop,), kwargs={"health_every": 0.05}, daemon=True)
    thread.start()
    try:
        eventually(lambda: len(sink.quotes) >= 2, what="the first prices")
        fake.set_price("EURUSD", "1.10100", "1.10112")
        eventually(lambda: sink.quotes[-1].bid == Decimal("1.10100"), what="the new price")
        fake.drop_connections()
        eventually(lambda: stream.subscriptions == 2, what="a new subscription on the new connection")
        fake.set_price("USDJPY", "151.000", "151.010")
        eventually(
            lambda: sink.quotes[-1] == Quote("USDJPY", Decimal("151.000"), Decimal("151.010"), sink.quotes[-1].time),
            what="a price after the reconnect",
        )
    finally:
        stop.set()
        thread.join(timeout=5)

    assert sink.health["state"] == "stopped"
    assert int(sink.health["connects"]) == 2
