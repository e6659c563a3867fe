"""OANDA rules the client keeps before OANDA has to refuse (and the fake refuses like OANDA when it does not):
MT4-linked accounts, close units at the instrument's precision, trailing-stop limits, 429 throttling with
back-off, and margin cancels."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest

from brokers.base import InstrumentRef, OrderRequest
from brokers.errors import BrokerRejectedError
from brokers.oanda.pacing import Budget, LocalPacer
from tests.support.fake_oanda import FakeOanda
from tests.support.fake_oanda.instruments import DEFAULT_INSTRUMENTS, FakeInstrument

EURUSD = InstrumentRef(symbol="EURUSD", broker_symbol="EUR_USD", digits=5)
MT4 = "101-004-1000001-003"
DE30 = FakeInstrument("DE30_EUR", 1, 0, Decimal("17000.0"), Decimal("17001.0"), type="CFD", units_precision=1)


def order(cid: str, units: str = "1000", **kw) -> OrderRequest:
    return OrderRequest(client_order_id=cid, instance_id=5, instrument=EURUSD, side="buy", units=Decimal(units), **kw)


def raw(client, method: str, path: str, body: dict) -> None:
    client._http.request(method, f"/v3/accounts/{client.account_id}{path}", body=body, idempotent=True)


@pytest.fixture
def mt4_fake():
    server = FakeOanda.start(heartbeat_interval=0.1, other_accounts=(MT4,), mt4_accounts=(MT4,))
    yield server
    server.stop()


def test_mt4_linked_account_is_refused_at_account_check(mt4_fake, make_client):
    client = make_client(mt4_fake, account_id=MT4)

    with pytest.raises(BrokerRejectedError) as info:
        client.check_credentials()

    assert info.value.reason == "MT4_ACCOUNT"
    assert "linked to MetaTrader 4" in str(info.value) and mt4_fake.account_id in str(info.value)
    assert [r.path for r in mt4_fake.requests] == ["/v3/accounts"]  # refused before touching the account
    accounts = {a.account_id: a for a in client.list_accounts()}
    assert accounts[MT4].mt4_linked and not accounts[mt4_fake.account_id].mt4_linked
    assert make_client(mt4_fake).check_credentials().currency == "USD"


@pytest.fixture
def cfd_fake():
    server = FakeOanda.start(heartbeat_interval=0.1, instruments=(*DEFAULT_INSTRUMENTS, DE30))
    yield server
    server.stop()


def test_close_units_are_written_at_the_instrument_unit_precision(cfd_fake, make_client):
    client = make_client(cfd_fake)
    fx_trade = cfd_fake.open_trade_external("EURUSD", 1000)
    cfd_trade = cfd_fake.open_trade_external("DE30EUR", "10.5")

    with pytest.raises(BrokerRejectedError) as too_fine:
        client.close_trade(cfd_trade, units=Decimal("2.25"))
    with pytest.raises(BrokerRejectedError):
        client.close_trade(fx_trade, units=Decimal("100.5"))
    sent_before = cfd_fake.count("PUT", "/close")
    cfd = client.close_trade(cfd_trade, units=Decimal("2.50"))
    fx = client.close_trade(fx_trade, units=Decimal("100.000"), unit_precision=0)

    bodies = [json.loads(r.body) for r in cfd_fake.requests if r.path.endswith("/close")]
    assert too_fine.value.reason == "UNITS_PRECISION_EXCEEDED"
    assert sent_before == 0  # refused before sending
    assert bodies == [{"units": "2.5"}, {"units": "100"}]
    assert cfd.status == fx.status == "filled"
    assert cfd.fill is not None and cfd.fill.trade_reduced is not None
    assert cfd.fill.trade_reduced.units == Decimal("2.5")


def test_fake_refuses_close_units_with_too_many_decimals_like_oanda(fake, client):
    trade = fake.open_trade_external("EURUSD", 1000)

    with pytest.raises(BrokerRejectedError) as info:
        raw(client, "PUT", f"/trades/{trade}/close", {"units": "100.5"})

    assert info.value.reason == "UNITS_PRECISION_EXCEEDED"
    assert fake.transactions(type="MARKET_ORDER_REJECT")[-1]["rejectReason"] == "UNITS_PRECISION_EXCEEDED"


def test_trailing_distance_below_the_instrument_minimum_is_refused_before_sending(fake, client):
    with pytest.raises(BrokerRejectedError) as on_fill:
        client.submit_order(order("c-tsl", trailing_distance=Decimal("0.0003")))
    opened = client.submit_order(order("c-ok", trailing_distance=Decimal("0.0005")))
    assert opened.fill is not None and opened.fill.trade_opened is not None
    trade = opened.fill.trade_opened
    with pytest.raises(BrokerRejectedError) as modify:
        client.modify_trade(trade, trailing_distance=Decimal("0.0001"))
    with pytest.raises(BrokerRejectedError, match="maximum"):
        client.modify_trade(trade, trailing_distance=Decimal("1.5"), symbol="EURUSD")

    assert on_fill.value.reason == "TRAILING_STOP_LOSS_ON_FILL_PRICE_DISTANCE_MINIMUM_NOT_MET"
    assert "minimum of 0.00050" in str(on_fill.value)
    assert modify.value.reason == "PRICE_DISTANCE_MINIMUM_NOT_MET"
    assert fake.count("POST", "/orders") == 1  # only the order that met the minimum
    assert fake.count("PUT", "/orders") == 0


def test_fake_refuses_trailing_distances_below_the_minimum_like_oanda(fake, client):
    trade = fake.open_trade_external("EURUSD", 1000)
    body = {"type": "MARKET", "instrument": "EUR_USD", "units": "100", "trailingStopLossOnFill": {"distance": "0.0002"}}

    with pytest.raises(BrokerRejectedError) as on_fill:
        raw(client, "POST", "/orders", {"order": body})
    with pytest.raises(BrokerRejectedError) as dependent:
        raw(client, "PUT", f"/trades/{trade}/orders", {"trailingStopLoss": {"distance": "0.0001"}})

    assert on_fill.value.reason == "TRAILING_STOP_LOSS_ON_FILL_PRICE_DISTANCE_MINIMUM_NOT_MET"
    assert dependent.value.reason == "PRICE_DISTANCE_MINIMUM_NOT_MET"


@pytest.mark.slow
def test_client_backs_off_and_retries_when_the_fake_throttles(fake, make_client):
    """The fake serves at most 5 requests in any second and answers 429 beyond; every call still succeeds."""
    fake.throttle(5, 1.0)
    client = make_client(
        fake, sleep=time.sleep, max_retries=5, timeout=(1.0, 10.0), pacer=LocalPacer(Budget(1000, 1.0))
    )

    states = [client.get_account_state() for _ in range(12)]

    seen = [r for r in fake.requests if r.path.endswith("/summary")]
    served = [r.at for r in seen if not r.throttled]
    assert len(states) == 12
    assert len(served) >= 12  # more only if a slow answer timed out and the GET was sent again
    assert any(r.throttled for r in seen)
    assert all(sum(1 for t in served if s <= t < s + 1.0) <= 5 for s in served)


def test_order_beyond_margin_available_is_cancelled_with_201_like_oanda(fake, client):
    fake.set_margin_available("100")

    refused = client.submit_order(order("c-margin", units="100000"))
    fake.set_margin_available(None)
    filled = client.submit_order(order("c-margin-2", units="100000"))

    summary = client._http.request("GET", f"/v3/accounts/{fake.account_id}/summary").body["account"]
    assert (refused.status, refused.reason) == ("cancelled", "INSUFFICIENT_MARGIN")
    assert fake.transactions(type="ORDER_CANCEL")[-1]["reason"] == "INSUFFICIENT_MARGIN"
    assert filled.status == "filled"
    assert Decimal(summary["marginAvailable"]) == Decimal(summary["NAV"]) - Decimal(summary["marginUsed"])


def test_small_account_cannot_open_beyond_its_margin():
    with FakeOanda.start(balance="1000") as small:
        from brokers.oanda import OandaClient

        client = OandaClient(base_url=small.url, stream_url=small.url, token=small.token, account_id=small.account_id)
        try:
            big = client.submit_order(order("c-big", units="100000"))  # 2,200 USD of margin at 2%
            fits = client.submit_order(order("c-fits", units="10000"))  # 220 USD
        finally:
            client.close()

    assert (big.status, big.reason) == ("cancelled", "INSUFFICIENT_MARGIN")
    assert fits.status == "filled"
