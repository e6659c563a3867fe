"""End to end: a real strategy worker runs an instance on a cTrader demo account (the fake, over TLS), a real
threaded broker_io worker sends the order, and the trade lands in our database with the broker's position id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from asirikuy_site.celery import app
from tests.e2e.test_worker_executes_strategy import _await_early_in_minute, _seed_crossover_bars
from tests.support.fake_ctrader import HEDGED
from tests.support.workers import Workers
from trading.models import Execution, ExecutionStatus, Instrument, Order, OrderStatus, Trade
from trading.queues import shard_of

from .conftest import eventually, fake_settings

pytestmark = pytest.mark.slow


@pytest.fixture
def start_celery(transactional_db, tmp_path, fake):
    """Celery worker processes pointed at the test database and the fake cTrader; stopped at the end."""
    workers = Workers(tmp_path, fake_settings(fake))
    yield workers.start
    workers.stop()


def test_instance_on_ctrader_runs_end_to_end_through_real_workers(start_celery, fake, alice, ctrader_settings):
    from framework.catalog import MA_CROSSOVER
    from trading.services.accounts import account_create
    from trading.services.instances import instance_create

    _await_early_in_minute()
    instrument = Instrument.objects.create(
        symbol="EURUSD", broker_symbol="EURUSD", base_currency="EUR", quote_currency="USD", digits=5, always_open=True
    )
    last_closed_open = datetime.now(tz=UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    _seed_crossover_bars(instrument, last_closed_open)
    grant = fake.current_grant(HEDGED)
    account = account_create(
        owner=alice,
        name="e2e cTrader",
        broker="ctrader",
        environment="practice",
        broker_account_id=str(HEDGED),
        token=grant.access_token,
        refresh_token=grant.refresh_token,
    )
    instance = instance_create(
        account=account,
        instrument=instrument,
        strategy_id=MA_CROSSOVER,
        name="e2e MA",
        timeframe=1,
        parameters={"FAST_PERIOD": 2, "SLOW_PERIOD": 4, "ATR_AVERAGING_PERIOD": 5},
    )
    start_celery(
        "strategy",
        "-P",
        "solo",
        "-Q",
        f"shard.{shard_of(account.pk)}",
        extra_env={"ASIRIKUY_WORKER_SHARD": str(shard_of(account.pk))},
    )
    start_celery("io", "-P", "threads", "-c", "4", "-Q", "broker_io")

    result = app.send_task("trading.tasks.execute_strategy", args=[instance.instance_id], queue=account.queue_name).get(
        timeout=90
    )
    trade = eventually(
        lambda: Trade.objects.filter(instance=instance).exclude(broker_trade_id="").first(),
        timeout=60,
        what="the trade recorded from the broker's fill",
    )
    order = Order.objects.get(instance=instance)
    sent = fake.orders(order_type=1)

    assert result["status"] == "ran", result
    assert Execution.objects.get(pk=result["execution_id"]).status == ExecutionStatus.SUCCESS
    assert order.status == OrderStatus.FILLED
    assert len(sent) == 1 and fake.count("ProtoOANewOrderReq") == 1
    assert sent[0].client_order_id == order.client_order_id
    assert sent[0].label == f"asirikuy:{instance.instance_id}"
    assert sent[0].volume == int(order.units * 100)
    assert trade.broker_trade_id == str(sent[0].position_id)
    assert trade.side == "buy" and trade.state == "open"
