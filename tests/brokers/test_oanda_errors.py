"""Error-mapping contract: each failure maps to one exception type after a known number of attempts."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from brokers.base import InstrumentRef, OrderRequest
from brokers.errors import (
    BrokerAuthError,
    BrokerNotFoundError,
    BrokerProtocolError,
    BrokerRateLimitError,
    BrokerRejectedError,
    BrokerTemporaryError,
    BrokerUnknownOutcomeError,
)
from tests.brokers.conftest import _free_port

SUMMARY = "/summary"
EURUSD = InstrumentRef(symbol="EURUSD", broker_symbol="EUR_USD", digits=5)


def market(client_order_id: str = "c-1", **kw) -> OrderRequest:
    return OrderRequest(
        client_order_id=client_order_id, instance_id=7, instrument=EURUSD, side="buy", units=Decimal("1000"), **kw
    )


@pytest.mark.parametrize(
    ("fault", "expected", "attempts"),
    [
        ({"kind": "status", "status": 500, "times": 10}, BrokerTemporaryError, 3),
        ({"kind": "status", "status": 503, "times": 10}, BrokerTemporaryError, 3),
        ({"kind": "status", "status": 429, "times": 10}, BrokerRateLimitError, 3),
        ({"kind": "latency", "seconds": 0.5, "times": 10}, BrokerTemporaryError, 3),
        ({"kind": "drop_before", "times": 10}, BrokerTemporaryError, 3),
        ({"kind": "malformed", "times": 10}, BrokerProtocolError, 1),
    ],
    ids=["500", "503", "429", "read-timeout", "dropped-connection", "malformed-json"],
)
def test_get_failure_maps_to_exception_after_expected_attempts(fake, make_client, sleeps, fault, expected, attempts):
    client = make_client(fake, timeout=(1.0, 0.2))
    fake.inject(method="GET", path=SUMMARY, **fault)

    with pytest.raises(expected):
        client.get_account_state()

    assert fake.count("GET", SUMMARY) == attempts
    assert len([s for s in sleeps.calls if s > 0]) >= attempts - 1


def test_temporary_get_error_recovers_within_retries(fake, client):
    fake.inject("status", method="GET", path=SUMMARY, status=503, times=2)

    state = client.get_account_state()

    assert state.currency == "USD"
    assert fake.count("GET", SUMMARY) == 3


def test_rate_limit_honours_retry_after(fake, client, sleeps):
    fake.inject("status", method="GET", path=SUMMARY, status=429, retry_after=1.5)

    client.get_account_state()

    assert 1.5 in sleeps.calls
    assert fake.count("GET", SUMMARY) == 2


def test_bad_token_maps_to_auth_error_without_retry(fake, make_client):
    client = make_client(fake, token="not-a-valid-token")

    with pytest.raises(BrokerAuthError):
        client.get_account_state()

    assert fake.count("GET", SUMMARY) == 1


def test_foreign_account_maps_to_auth_error(fake, make_client):
    fake.broker.add_account("101-004-9999999-001")
    client = make_client(fake, account_id="101-004-9999999-001")

    with pytest.raises(BrokerAuthError):
        client.get_account_state()


def test_unknown_trade_maps_to_not_found_with_reason(fake, client):
    with pytest.raises(BrokerNotFoundError) as info:
        client.get_trade("999")

    assert info.value.reason == "NO_SUCH_TRADE"
    assert fake.count("GET", "/trades/999") == 1


def test_order_reject_maps_to_rejected_error_with_reason_and_one_post(fake, client):
    six_digits = InstrumentRef(symbol="EURUSD", broker_symbol="EUR_USD", digits=6)
    request = OrderRequest(
        client_order_id="c-rej",
        instance_id=7,
        instrument=six_digits,
        side="buy",
        units=Decimal("1000"),
        stop_loss=Decimal("1.090001"),
    )

    with pytest.raises(BrokerRejectedError) as info:
        client.submit_order(request)

    assert info.value.reason == "STOP_LOSS_ON_FILL_PRICE_PRECISION_EXCEEDED"
    assert info.value.transaction_id == fake.transactions()[-1]["id"]
    assert fake.transactions()[-1]["type"] == "MARKET_ORDER_REJECT"
    assert fake.count("POST", "/orders") == 1


def test_order_post_500_is_not_retried_and_is_looked_up(fake, client):
    fake.inject("status", method="POST", path="/orders$", status=500)

    with pytest.raises(BrokerUnknownOutcomeError):
        client.submit_order(market())

    assert fake.count("POST", "/orders") == 1
    assert fake.count("GET", "/transactions/sinceid") == 1
    assert fake.transactions(type="ORDER_FILL") == []


def test_order_post_429_is_retried_because_it_was_not_executed(fake, client):
    fake.inject("status", method="POST", path="/orders$", status=429)

    result = client.submit_order(market())

    assert result.status == "filled"
    assert fake.count("POST", "/orders") == 2
    assert len(fake.transactions(type="ORDER_FILL")) == 1


def test_connection_refused_is_temporary_and_retried(fake, make_client, sleeps):
    closed = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    client = make_client(fake, base_url=closed)

    with pytest.raises(BrokerTemporaryError):
        client.get_account_state()
    with pytest.raises(BrokerTemporaryError):
        client.close_trade("1")  # a PUT may be retried when nothing was sent

    assert len(sleeps.calls) == 4


def test_token_never_appears_in_logs_reprs_or_errors(fake, make_client, caplog):
    caplog.set_level(logging.DEBUG)
    secret = fake.token
    client = make_client(fake)
    errors: list[Exception] = []
    fake.inject("status", method="GET", path=SUMMARY, status=503, times=3)
    fake.inject("drop_after", method="POST", path="/orders$")
    for call in (
        client.get_account_state,
        lambda: make_client(fake, token=secret + "x").get_account_state(),
        lambda: client.get_trade("404"),
        lambda: client.submit_order(market("c-log")),
    ):
        try:
            call()
        except Exception as e:  # noqa: BLE001 - collecting every error to inspect its text
            errors.append(e)

    assert secret not in caplog.text
    assert secret not in repr(client)
    for error in errors:
        chain = [error, error.__cause__, error.__context__]
        assert all(secret not in f"{e!s} {e!r}" for e in chain if e is not None)
    assert len(errors) == 3
