"""The cTrader client's contract against the fake over TLS, without the platform: framing, the error taxonomy
(each error answer → one exception type, with the number of attempts), lost answers, and secrets kept out of
what the client prints."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from brokers.base import InstrumentRef, OrderRequest
from brokers.ctrader import Connection, CTraderClient, Endpoint, TokenSet
from brokers.ctrader.errors import ApplicationRefusedError
from brokers.ctrader.wire import FrameBuffer, FrameError, frame
from brokers.errors import (
    BrokerAuthError,
    BrokerNotFoundError,
    BrokerRateLimitError,
    BrokerRejectedError,
    BrokerTemporaryError,
)
from tests.support.fake_ctrader import HEDGED, FakeCTrader

EURUSD = InstrumentRef(symbol="EURUSD", broker_symbol="EURUSD", digits=5)


@pytest.fixture
def fake(tmp_path) -> Iterator[FakeCTrader]:
    server = FakeCTrader.start(folder=tmp_path, heartbeat_every=0.1)
    yield server
    server.stop()


@pytest.fixture
def client(fake) -> Iterator[CTraderClient]:
    connection = Connection(
        Endpoint.parse(fake.address, ca_file=str(fake.ca_file)),
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        timeout=1.0,
    )
    grant = fake.current_grant(HEDGED)
    yield CTraderClient(connection, account_id=HEDGED, tokens=TokenSet(grant.access_token), order_timeout=1.0)
    connection.close()


def test_frames_are_cut_and_joined_at_their_length():
    buffer = FrameBuffer()
    data = frame(b"abc") + frame(b"") + frame(b"x" * 70000)

    pieces = [buffer.feed(data[i : i + 7]) for i in range(0, len(data), 7)]

    assert [f for chunk in pieces for f in chunk] == [b"abc", b"", b"x" * 70000]
    assert data[:4] == b"\x00\x00\x00\x03"  # big-endian length
    with pytest.raises(FrameError):
        FrameBuffer().feed(b"\x7f\xff\xff\xff")


@pytest.mark.parametrize(
    ("code", "error", "attempts"),
    [
        ("SERVER_IS_UNDER_MAINTENANCE", BrokerTemporaryError, 1),
        ("REQUEST_FREQUENCY_EXCEEDED", BrokerRateLimitError, 1),
        ("CH_ACCESS_TOKEN_INVALID", BrokerAuthError, 1),  # no refresh token to renew it: tell the user
        ("POSITION_NOT_FOUND", BrokerNotFoundError, 1),
        ("NOT_ENOUGH_MONEY", BrokerRejectedError, 1),
    ],
)
def test_each_error_answer_maps_to_one_exception(fake, client, code, error, attempts):
    client.authorise()
    fake.inject("error", "ProtoOATraderReq", times=5, code=code)

    with pytest.raises(error) as raised:
        client.trader()

    assert code in str(raised.value)
    assert fake.count("ProtoOATraderReq") == attempts


def test_a_read_without_an_answer_is_asked_again_then_temporary(fake, client):
    client.authorise()
    fake.inject("latency", "ProtoOATraderReq", times=2, seconds=1.5)

    with pytest.raises(BrokerTemporaryError):
        client.trader()

    assert fake.count("ProtoOATraderReq") == 2


def test_an_order_without_an_answer_is_looked_up_and_never_sent_twice(fake, client):
    fake.inject("latency", "ProtoOANewOrderReq", seconds=1.5)

    result = client.submit_order(OrderRequest("slow-1", 9, EURUSD, "buy", Decimal(1000)))

    assert result.status == "filled" and result.fill is not None
    assert result.fill.trade_opened == str(fake.deals()[0].position_id)
    assert fake.count("ProtoOANewOrderReq") == 1
    assert fake.count("ProtoOAOrderListReq") == 1


def test_an_order_refused_by_the_server_is_rejected_with_its_code(fake, client):
    fake.inject("error", "ProtoOANewOrderReq", code="MARKET_CLOSED")

    with pytest.raises(BrokerRejectedError) as refused:
        client.submit_order(OrderRequest("closed-1", 9, EURUSD, "buy", Decimal(1000)))

    assert refused.value.reason == "MARKET_CLOSED"


def test_a_refused_application_is_told_apart_from_a_refused_token(fake):
    connection = Connection(
        Endpoint.parse(fake.address, ca_file=str(fake.ca_file)), client_id=fake.client_id, client_secret="wrong"
    )
    client = CTraderClient(connection, account_id=HEDGED, tokens=TokenSet(fake.main.access_token))
    try:
        with pytest.raises(ApplicationRefusedError):
            client.trader()
    finally:
        connection.close()


def test_an_untrusted_certificate_is_refused(fake, tmp_path):
    connection = Connection(Endpoint.parse(fake.address), client_id="x", client_secret="y", connect_attempts=1)

    with pytest.raises(BrokerTemporaryError) as refused:
        connection.ensure_connected()

    assert "SSL" in str(refused.value) or "certificate" in str(refused.value)


def test_tokens_never_show_in_what_the_client_prints(fake, client):
    text = f"{client!r} {client.tokens!r} {client.tokens} {client.connection!r}"

    assert fake.main.access_token not in text and fake.main.refresh_token not in text
    assert fake.client_secret not in text
