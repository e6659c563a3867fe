"""The pricing stream consumer against the fake's chunked NDJSON stream, with faults."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from brokers.errors import BrokerAuthError
from brokers.oanda.stream import MemoryPriceSink, PriceStream, RedisPriceSink, read_cached_price, read_stream_health
from tests.brokers.conftest import eventually


@pytest.fixture
def run_stream(fake) -> Iterator:
    streams: list[PriceStream] = []

    def start(sink=None, **overrides) -> tuple[PriceStream, MemoryPriceSink]:
        sink = sink or MemoryPriceSink()
        kwargs = {
            "stream_url": fake.url,
            "token": fake.token,
            "account_id": fake.account_id,
            "symbols": ["EURUSD", "USDJPY"],
            "sink": sink,
            "heartbeat_timeout": 0.5,
            "connect_timeout": 1.0,
            "backoff_initial": 0.05,
            "backoff_max": 0.2,
        }
        kwargs.update(overrides)
        stream = PriceStream(**kwargs)
        streams.append(stream)
        stream.start()
        return stream, sink

    yield start
    for stream in streams:
        stream.stop()


def bid_of(sink: MemoryPriceSink, symbol: str) -> Decimal | None:
    quote = sink.latest.get(symbol)
    return quote.bid if quote else None


def test_snapshot_and_price_moves_reach_the_sink(fake, run_stream):
    stream, sink = run_stream()

    eventually(lambda: bid_of(sink, "EURUSD") == Decimal("1.10000"))
    fake.set_price("EURUSD", "1.10100", "1.10110")
    eventually(lambda: bid_of(sink, "EURUSD") == Decimal("1.10100"))
    eventually(lambda: stream.health.heartbeats >= 2)

    health = stream.health
    assert sink.latest["USDJPY"].ask == Decimal("150.012")
    assert health.state == "streaming"
    assert health.is_healthy(max_silence=5)
    assert health.malformed_lines == 0


def test_stalled_stream_is_detected_and_resumed(fake, run_stream):
    fake.inject_stream("stall", after=3, seconds=5)
    stream, sink = run_stream()

    eventually(lambda: stream.health.stalls >= 1)
    eventually(lambda: fake.stream_connections >= 2)
    fake.set_price("EURUSD", "1.10200", "1.10210")

    eventually(lambda: bid_of(sink, "EURUSD") == Decimal("1.10200"))
    assert stream.health.reconnects >= 1


def test_half_lines_across_chunks_are_reassembled(fake, run_stream):
    fake.inject_stream("half_lines")
    stream, sink = run_stream()

    eventually(lambda: stream.health.heartbeats >= 3)
    fake.set_price("USDJPY", "151.000", "151.010")
    eventually(lambda: bid_of(sink, "USDJPY") == Decimal("151.000"))

    assert stream.health.malformed_lines == 0
    assert stream.health.stalls == 0


def test_malformed_line_is_counted_and_the_consumer_continues(fake, run_stream):
    fake.inject_stream("malformed", after=2)
    stream, sink = run_stream()

    eventually(lambda: stream.health.malformed_lines >= 1)
    fake.set_price("EURUSD", "1.10300", "1.10310")
    eventually(lambda: bid_of(sink, "EURUSD") == Decimal("1.10300"))

    assert fake.stream_connections == 1


def test_dropped_stream_reconnects_and_discards_the_half_line(fake, run_stream):
    fake.inject_stream("drop", after=3)
    stream, sink = run_stream()

    eventually(lambda: fake.stream_connections >= 2 and stream.health.state == "streaming")
    fake.set_price("EURUSD", "1.10400", "1.10410")
    eventually(lambda: bid_of(sink, "EURUSD") == Decimal("1.10400"))

    assert stream.health.partial_lines_dropped >= 1
    assert stream.health.malformed_lines == 0


def test_refused_stream_backs_off_and_retries(fake, run_stream):
    fake.inject_stream("reject", times=2)
    stream, sink = run_stream()

    eventually(lambda: bid_of(sink, "EURUSD") is not None)

    assert stream.health.connects >= 3


def test_bad_token_stops_the_stream_with_auth_error(fake):
    stream = PriceStream(
        stream_url=fake.url,
        token="wrong",
        account_id=fake.account_id,
        symbols=["EURUSD"],
        sink=MemoryPriceSink(),
        heartbeat_timeout=0.5,
    )

    with pytest.raises(BrokerAuthError):
        stream.run(max_connections=3)

    assert stream.health.state == "failed"
    assert stream.health.connects == 1


def test_stream_run_stops_by_itself_after_max_connections(fake):
    fake.inject_stream("drop", after=1, times=5)
    stream = PriceStream(
        stream_url=fake.url,
        token=fake.token,
        account_id=fake.account_id,
        symbols=["EURUSD"],
        sink=MemoryPriceSink(),
        heartbeat_timeout=0.5,
        backoff_initial=0.01,
        backoff_max=0.02,
    )

    stream.run(max_connections=3)

    assert stream.health.state == "stopped"
    assert stream.health.connects == 3


def test_redis_sink_keeps_latest_price_and_health_readable_in_one_call(redis_client, fake, run_stream):
    stream, _ = run_stream(sink=RedisPriceSink(redis_client))

    fake.set_price("EURUSD", "1.10500", "1.10520")
    quote = eventually(lambda: _cached_bid_is(redis_client, Decimal("1.10500")))
    eventually(lambda: read_stream_health(redis_client).get("state") == "streaming")

    assert quote.ask == Decimal("1.10520")
    assert quote.symbol == "EURUSD"
    assert quote.tradeable is True
    assert read_cached_price(redis_client, "GBPUSD") is None
    assert int(read_stream_health(redis_client)["heartbeats"]) >= 0


def _cached_bid_is(redis_client, bid: Decimal):
    quote = read_cached_price(redis_client, "EURUSD")
    return quote if quote is not None and quote.bid == bid else None
