"""Real strategy runs on an OANDA account (the fake) while the I/O worker is down: entries wait NEW for bars on
end, and no instance opens past max_open_orders; once they are sent, the broker holds at most one per instance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import redis
from django.conf import settings

from tests.support.fake_oanda import FakeOanda
from trading.models import Instrument, Order, OrderIntent, OrderStatus, Trade, TradeState
from trading.queues import Queue
from trading.services.execution import execution_bar_close
from trading.services.instances import instance_create
from trading.services.orders.dispatch import orders_dispatch
from trading.venues.oanda.client import oanda_clients_reset

RUN_AT = datetime(2024, 3, 12, 14, 37, 5, tzinfo=UTC)  # a Tuesday afternoon
IN_FLIGHT = (OrderStatus.NEW, OrderStatus.SUBMITTING, OrderStatus.UNKNOWN, OrderStatus.PENDING)


@pytest.fixture
def hedging_fake(settings):
    server = FakeOanda.start(hedging=True, heartbeat_interval=0.1)
    server.set_price("EUR_USD", "1.08000", "1.08010")
    settings.OANDA_PRACTICE_URL = server.url
    settings.OANDA_PRACTICE_STREAM_URL = server.url
    oanda_clients_reset()
    yield server
    oanda_clients_reset()
    server.stop()


@pytest.fixture
def no_io_worker():
    """Nothing consumes broker_io here: the dispatch tasks the runs send are dropped at the end."""
    yield
    if settings.REDIS_URL:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        client.delete(Queue.BROKER_IO)
        client.close()


def positions(instance) -> int:
    trades = Trade.objects.filter(instance=instance, state=TradeState.OPEN).count()
    return trades + Order.objects.filter(instance=instance, intent=OrderIntent.OPEN, status__in=IN_FLIGHT).count()


def test_entries_waiting_for_a_dead_io_worker_never_stack_past_max_open_orders(
    transactional_db, alice, hedging_fake, no_io_worker, settings
):
    from framework.catalog import MA_CROSSOVER
    from trading.services.accounts import account_create

    settings.BAR_WAIT_SECONDS = 0
    instrument = Instrument.objects.create(
        symbol="EURUSD",
        broker_symbol="EUR_USD",
        base_currency="EUR",
        quote_currency="USD",
        digits=5,
        pip_location=-4,
        contract_size=Decimal("100000"),
        spread_points=10,
        simulated=True,
        always_open=True,
    )
    account = account_create(
        owner=alice,
        name="OANDA in flight",
        broker="oanda",
        environment="practice",
        broker_account_id=hedging_fake.account_id,
        token=hedging_fake.token,
    )
    instances = [
        instance_create(
            account=account,
            instrument=instrument,
            strategy_id=MA_CROSSOVER,
            name=f"ma {fast}/{slow}",
            timeframe=1,
            parameters={"FAST_PERIOD": fast, "SLOW_PERIOD": slow},
            risk_percent=Decimal("0.5"),
            max_open_orders=1,
        )
        for fast, slow in ((2, 4), (2, 5), (3, 6))
    ]
    worst, now = 0, RUN_AT
    for _ in range(45):
        execution_bar_close(account_id=account.pk, timeframe=1, now=now)
        worst = max([worst, *(positions(i) for i in instances)])
        now += timedelta(minutes=1)
    waiting = Order.objects.filter(intent=OrderIntent.OPEN, status=OrderStatus.NEW).count()

    orders_dispatch(account_id=account.pk, instrument_id=instrument.pk)  # the I/O worker is back

    assert waiting >= 2, "the strategies should have wanted to trade"
    assert worst <= 1
    per_instance: dict[str, int] = {}
    for trade in hedging_fake.open_trades():
        tag = (trade.get("clientExtensions") or {}).get("id", "")
        per_instance[tag.split("-")[0]] = per_instance.get(tag.split("-")[0], 0) + 1
    assert per_instance and max(per_instance.values()) <= 1, per_instance
