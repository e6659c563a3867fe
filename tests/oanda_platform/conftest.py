"""A fake OANDA on 127.0.0.1, an OANDA practice account pointed at it, and helpers.

The account is created through ``account_create``, so its token and id are checked against the fake
like a real one. ``oanda_client`` keeps one client per process; it is emptied around every test.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from brokers.oanda import OandaClient
from tests.support.fake_oanda import FakeOanda
from trading.venues.oanda.client import oanda_clients_reset


def eventually(
    predicate: Callable[[], Any], *, timeout: float = 10.0, interval: float = 0.05, what: str = "condition"
) -> Any:
    """Poll until ``predicate()`` is truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


@pytest.fixture
def fake() -> Iterator[FakeOanda]:
    server = FakeOanda.start(heartbeat_interval=0.1, other_accounts=("101-004-1000001-002",))
    server.set_price("EUR_USD", "1.10000", "1.10010")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def oanda_settings(settings, fake):
    settings.OANDA_PRACTICE_URL = fake.url
    settings.OANDA_PRACTICE_STREAM_URL = fake.url
    oanda_clients_reset()
    yield settings
    oanda_clients_reset()


@pytest.fixture
def oanda_account(alice, oanda_settings, fake):
    from trading.services.accounts import account_create

    return account_create(
        owner=alice,
        name="Alice OANDA",
        broker="oanda",
        environment="practice",
        broker_account_id=fake.account_id,
        token=fake.token,
    )


@pytest.fixture
def hand(fake) -> Iterator[OandaClient]:
    """A second client on the same account: what a person does on OANDA's own platform."""
    client = OandaClient(base_url=fake.url, stream_url=fake.url, token=fake.token, account_id=fake.account_id)
    yield client
    client.close()


@pytest.fixture
def oanda_eurusd(db):
    from trading.models import Instrument

    return Instrument.objects.create(
        symbol="EURUSD",
        broker_symbol="EUR_USD",
        base_currency="EUR",
        quote_currency="USD",
        digits=5,
        pip_location=-4,
        contract_size=Decimal("100000"),
        margin_rate=Decimal("0.02"),
        spread_points=10,
        always_open=True,  # orders go out whatever day the suite runs on
    )


@pytest.fixture
def oanda_instance(oanda_account, oanda_eurusd):
    from framework.catalog import MA_CROSSOVER
    from trading.services.instances import instance_create

    return instance_create(
        account=oanda_account,
        instrument=oanda_eurusd,
        strategy_id=MA_CROSSOVER,
        name="MA",
        timeframe=1,
        parameters={"FAST_PERIOD": 2, "SLOW_PERIOD": 4, "ATR_AVERAGING_PERIOD": 5},
    )


@pytest.fixture
def new_order(oanda_account, oanda_eurusd, oanda_instance):
    """Create a NEW market order of the instance, as a strategy run does."""
    from trading.models import Order, OrderStatus

    made = iter(range(1, 1000))

    def make(*, side: str = "buy", units: str = "1000", **fields: Any) -> Order:
        return Order.objects.create(
            client_order_id=f"at{oanda_instance.pk}-test-{next(made)}",
            account=oanda_account,
            instance=oanda_instance,
            instrument=oanda_eurusd,
            side=side,
            units=Decimal(units),
            status=OrderStatus.NEW,
            **fields,
        )

    return make


@pytest.fixture
def alice_api(alice):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(alice)
    return api
