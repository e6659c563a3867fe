"""A fake cTrader Open API server on 127.0.0.1 (TLS, its own throw-away CA), a cTrader demo account pointed at
it, and helpers. The account is created through ``account_create``, so its tokens and trading account id are
checked against the fake like a real one. Connections and clients are per process; they are reset around tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

from brokers.ctrader import Connection, CTraderClient, Endpoint, TokenSet
from tests.support.fake_ctrader import HEDGED, NETTED, FakeCTrader
from trading.venues.ctrader.client import ctrader_clients_reset


def eventually(predicate: Callable[[], Any], *, timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll until ``predicate()`` is truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def fake(tmp_path) -> Iterator[FakeCTrader]:
    server = FakeCTrader.start(folder=tmp_path / "tls", heartbeat_every=0.2)
    try:
        yield server
    finally:
        server.stop()


def fake_settings(fake: FakeCTrader) -> dict[str, str]:
    """The settings (and worker environment) that point the platform at the fake."""
    return {
        "CTRADER_CLIENT_ID": fake.client_id,
        "CTRADER_CLIENT_SECRET": fake.client_secret,
        "CTRADER_DEMO_ADDRESS": fake.address,
        "CTRADER_LIVE_ADDRESS": fake.address,
        "CTRADER_CA_FILE": str(fake.ca_file),
    }


@pytest.fixture
def ctrader_settings(settings, fake):
    for name, value in fake_settings(fake).items():
        setattr(settings, name, value)
    ctrader_clients_reset()
    yield settings
    ctrader_clients_reset()


def _create(owner, fake: FakeCTrader, account_id: int, name: str):
    from trading.services.accounts import account_create

    grant = fake.current_grant(account_id)
    return account_create(
        owner=owner,
        name=name,
        broker="ctrader",
        environment="practice",
        broker_account_id=str(account_id),
        token=grant.access_token,
        refresh_token=grant.refresh_token,
    )


@pytest.fixture
def ctrader_account(alice, ctrader_settings, fake):
    return _create(alice, fake, HEDGED, "Alice Pepperstone (hedged)")


@pytest.fixture
def netted_account(alice, ctrader_settings, fake):
    return _create(alice, fake, NETTED, "Alice Pepperstone (netted)")


@pytest.fixture
def direct(fake) -> Iterator[Callable[..., CTraderClient]]:
    """A client of our own on a fresh connection (outside the platform's per-process cache)."""
    made: list[Connection] = []

    def make(account_id: int = HEDGED, **options: Any) -> CTraderClient:
        connection = Connection(
            Endpoint.parse(fake.address, ca_file=str(fake.ca_file)),
            client_id=fake.client_id,
            client_secret=fake.client_secret,
            **options,
        )
        made.append(connection)
        grant = fake.current_grant(account_id)
        return CTraderClient(
            connection, account_id=account_id, tokens=TokenSet(grant.access_token, grant.refresh_token)
        )

    yield make
    for connection in made:
        connection.close()


@pytest.fixture
def ct_eurusd(db):
    from trading.models import Instrument

    return Instrument.objects.create(
        symbol="EURUSD",
        broker_symbol="EURUSD",
        base_currency="EUR",
        quote_currency="USD",
        digits=5,
        pip_location=-4,
        always_open=True,  # orders go out whatever day the suite runs on
    )


@pytest.fixture
def ct_usdjpy(db):
    from trading.models import Instrument

    return Instrument.objects.create(
        symbol="USDJPY",
        broker_symbol="USDJPY",
        base_currency="USD",
        quote_currency="JPY",
        digits=3,
        pip_location=-2,
        always_open=True,
    )


@pytest.fixture
def ct_instance(ctrader_account, ct_eurusd):
    from framework.catalog import MA_CROSSOVER
    from trading.services.instances import instance_create

    return instance_create(
        account=ctrader_account,
        instrument=ct_eurusd,
        strategy_id=MA_CROSSOVER,
        name="MA",
        timeframe=1,
        parameters={"FAST_PERIOD": 2, "SLOW_PERIOD": 4, "ATR_AVERAGING_PERIOD": 5},
    )


@pytest.fixture
def new_order(ctrader_account, ct_eurusd, ct_instance):
    """Create a NEW order of the instance, as a strategy run does."""
    from trading.models import Order, OrderStatus

    made = iter(range(1, 1000))

    def make(*, side: str = "buy", units: str = "10000", **fields: Any) -> Order:
        return Order.objects.create(
            client_order_id=f"at{ct_instance.pk}-test-{next(made)}",
            account=fields.pop("account", ctrader_account),
            instance=ct_instance,
            instrument=fields.pop("instrument", ct_eurusd),
            side=side,
            units=Decimal(units),
            status=OrderStatus.NEW,
            **fields,
        )

    return make


def dispatch(order) -> None:
    from trading.services.orders.dispatch import orders_dispatch

    orders_dispatch(account_id=order.account_id, instrument_id=order.instrument_id)
    order.refresh_from_db()
