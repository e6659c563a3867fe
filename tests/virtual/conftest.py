"""Two strategy instances on one FIFO account in virtual order mode: on the paper broker and on a fake
OANDA with US rules (no hedging, FIFO). Orders are written as a strategy run writes them (NEW, with the
instance) and sent by ``orders_dispatch``, the function the worker runs after the run commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest

from framework.catalog import MA_CROSSOVER

T0 = datetime(2024, 3, 12, 10, 0, tzinfo=UTC)  # a Tuesday: the FX market is open
_ids = count(1)


def bar(instrument, minute: int, o: str, h: str, lo: str, c: str):
    from trading.models import Bar

    p = instrument.to_points
    return Bar.objects.create(
        instrument=instrument,
        timeframe=1,
        time=T0 + timedelta(minutes=minute),
        open=p(Decimal(o)),
        high=p(Decimal(h)),
        low=p(Decimal(lo)),
        close=p(Decimal(c)),
        volume=1,
    )


def place(instance, *, intent: str = "open", side: str = "buy", units: str = "10000", trade=None, **fields):
    """Write one NEW order of ``instance`` as a strategy run does."""
    from trading.models import Order, OrderStatus

    return Order.objects.create(
        client_order_id=f"at{instance.instance_id}-t{next(_ids)}",
        account=instance.account,
        instance=instance,
        instrument=instance.instrument,
        intent=intent,
        side=side,
        units=Decimal(units),
        trade=trade,
        status=OrderStatus.NEW,
        **fields,
    )


def dispatch(account, instrument) -> None:
    from trading.services.orders.dispatch import orders_dispatch

    orders_dispatch(account_id=account.pk, instrument_id=instrument.pk)


def nets(account, symbol: str = "EURUSD") -> tuple[Decimal, Decimal, Decimal]:
    """(virtual net, broker net, in flight) of one symbol; a flat symbol is not listed by the check."""
    from trading.services.virtual.netting import virtual_net_check

    lines = {n.symbol: (n.virtual_net, n.broker_net, n.in_flight) for n in virtual_net_check(account)}
    return lines.get(symbol, (Decimal(0), Decimal(0), Decimal(0)))


def _instances(account, instrument):
    from trading.models import StrategyInstance

    return tuple(
        StrategyInstance.objects.create(
            instance_id=iid,
            name=f"inst {iid}",
            account=account,
            instrument=instrument,
            strategy_id=MA_CROSSOVER,
            timeframe=1,
        )
        for iid in (101, 102)
    )


@pytest.fixture
def fifo_paper(transactional_db, alice):
    """A FIFO paper account with the virtual flag left automatic (so: on)."""
    from trading.models import BrokerAccount

    return BrokerAccount.objects.create(
        owner=alice,
        name="US paper",
        broker="paper",
        currency="USD",
        fifo=True,
        virtual_orders=None,
        balance=Decimal("10000"),
        equity=Decimal("10000"),
        paper_processed_until=T0,
    )


@pytest.fixture
def paper_pair(fifo_paper, eurusd):
    """Instances A (101) and B (102) on the paper account; price 1.10000 / 1.10010."""
    bar(eurusd, 0, "1.10000", "1.10005", "1.09995", "1.10000")
    return _instances(fifo_paper, eurusd)


@pytest.fixture
def fake() -> Iterator[object]:
    from tests.support.fake_oanda import FakeOanda

    server = FakeOanda.start(heartbeat_interval=0.1, hedging=False, fifo=True)
    server.set_price("EUR_USD", "1.10000", "1.10010")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def oanda_fifo(transactional_db, alice, settings, fake):
    from trading.services.accounts import account_create
    from trading.venues.oanda.client import oanda_clients_reset

    settings.OANDA_PRACTICE_URL = fake.url
    settings.OANDA_PRACTICE_STREAM_URL = fake.url
    oanda_clients_reset()
    account = account_create(
        owner=alice,
        name="Alice US",
        broker="oanda",
        environment="practice",
        broker_account_id=fake.account_id,
        token=fake.token,
    )
    account.virtual_orders = None  # automatic: the account check found no hedging, so virtual mode is on
    account.save(update_fields=["virtual_orders"])
    yield account
    oanda_clients_reset()


@pytest.fixture
def oanda_pair(oanda_fifo, eurusd):
    eurusd.always_open = True  # orders go out whatever day the suite runs on
    eurusd.save(update_fields=["always_open"])
    return _instances(oanda_fifo, eurusd)
