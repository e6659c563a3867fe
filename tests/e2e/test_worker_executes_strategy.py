"""End to end: beat-style task → pinned Celery worker process → framework → paper broker → database."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from asirikuy_site.celery import app
from framework.catalog import MA_CROSSOVER
from trading.models import Bar, Execution, ExecutionStatus, Instrument, Order, Trade
from trading.queues import shard_of
from trading.services.accounts import account_create
from trading.services.instances import instance_create

from .conftest import wait_until

pytestmark = pytest.mark.slow


def _await_early_in_minute() -> None:
    """Keep the whole scenario inside one minute, so every run sees the same last closed bar."""
    second = datetime.now(tz=UTC).second
    if second > 35:
        time.sleep(61 - second)


def _seed_crossover_bars(instrument: Instrument, last_closed_open: datetime, count: int = 60) -> None:
    """A slow decline, then one strong up bar as the last closed bar: SMA(2) crosses above SMA(4) on it."""
    bars = []
    price = 110000
    for i in range(count):
        t = last_closed_open - timedelta(minutes=count - 1 - i)
        if i < count - 1:
            o, c = price, price - 5
        else:
            o, c = price, price + 200
        bars.append(
            Bar(
                instrument=instrument,
                timeframe=1,
                time=t,
                open=o,
                high=max(o, c) + 10,
                low=min(o, c) - 10,
                close=c,
                volume=50,
                complete=True,
            )
        )
        price = c
    Bar.objects.bulk_create(bars)


def _seed(alice, *, instances: int):
    _await_early_in_minute()
    instrument = Instrument.objects.create(
        symbol="EURUSD",
        broker_symbol="EUR_USD",
        base_currency="EUR",
        quote_currency="USD",
        digits=5,
        spread_points=10,
        always_open=True,
    )
    now = datetime.now(tz=UTC)
    _seed_crossover_bars(instrument, now.replace(second=0, microsecond=0) - timedelta(minutes=1))
    account = account_create(owner=alice, name="e2e paper", initial_balance=Decimal("10000"))
    return [
        instance_create(
            account=account,
            instrument=instrument,
            strategy_id=MA_CROSSOVER,
            name=f"e2e MA {k}",
            timeframe=1,
            parameters={"FAST_PERIOD": 2, "SLOW_PERIOD": 4, "ATR_AVERAGING_PERIOD": 5},
        )
        for k in range(instances)
    ]


@pytest.fixture
def seeded(alice):
    return _seed(alice, instances=1)[0]


def test_worker_runs_the_instance_and_a_redelivery_places_nothing_new(seeded, start_worker):
    instance = seeded
    start_worker(shard=shard_of(instance.account_id), name="strategy")

    first = app.send_task(
        "trading.tasks.execute_strategy", args=[instance.instance_id], queue=instance.account.queue_name
    )
    result = first.get(timeout=60)

    assert result["status"] == "ran", result
    # The paper fill follows in the worker's next task (orders_fill on the account's queue).
    trade = wait_until(lambda: Trade.objects.filter(instance=instance).first(), timeout=30, what="the paper fill")
    assert trade.side == "buy"
    assert trade.state == "open"
    assert Execution.objects.get(pk=result["execution_id"]).status == ExecutionStatus.SUCCESS
    orders_before = Order.objects.count()

    # The same task for the same bar again, as a redelivery or a second beat would bring it.
    again = app.send_task(
        "trading.tasks.execute_strategy", args=[instance.instance_id], queue=instance.account.queue_name
    )
    second = again.get(timeout=60)

    assert second["status"] == "duplicate", second
    assert Order.objects.count() == orders_before
    assert Trade.objects.filter(instance=instance).count() == 1
    assert Execution.objects.filter(instance=instance).count() == 1


def test_a_failing_strategy_is_recorded_and_the_worker_keeps_serving(seeded, start_worker):
    instance = seeded
    start_worker(shard=shard_of(instance.account_id), name="strategy")
    # Too few bars for the slow average: the framework refuses the run with NOT_ENOUGH_RATES_DATA.
    second_newest = (
        Bar.objects.filter(instrument=instance.instrument).order_by("-time").values_list("time", flat=True)[1]
    )
    Bar.objects.filter(instrument=instance.instrument, time__lt=second_newest).delete()
    instance.rates_slots = [{"symbol": "EURUSD", "timeframe": 1, "bars": 2}]
    instance.save()

    failed = app.send_task(
        "trading.tasks.execute_strategy", args=[instance.instance_id], queue=instance.account.queue_name
    ).get(timeout=60)
    alive = app.control.ping(timeout=5)

    assert failed["status"] == "failed", failed
    execution = Execution.objects.get(pk=failed["execution_id"])
    assert execution.status == ExecutionStatus.FAILED
    assert execution.return_code == 3009
    assert "NOT_ENOUGH_RATES_DATA" in execution.error or "rates" in execution.error.lower()
    assert any(alive), "the worker stopped answering after a failed run"
    wait_until(lambda: Execution.objects.filter(pk=failed["execution_id"]).exists(), timeout=1, what="execution row")


def test_worker_runs_the_accounts_bar_close_batch_and_redeliveries_place_nothing_new(alice, start_worker):
    instances = _seed(alice, instances=3)
    account = instances[0].account
    start_worker(shard=shard_of(account.pk), name="strategy")
    task = account.instances.first().periodic_task  # what beat sends at the bar close
    assert (task.task, task.queue) == ("trading.tasks.execute_bar_close", account.queue_name)

    first = app.send_task(task.task, args=json.loads(task.args), queue=task.queue).get(timeout=60)

    assert first["outcomes"] == {"ran": 3}, first
    # The paper fills follow in the worker's next task (orders_fill on the account's queue).
    wait_until(lambda: Trade.objects.filter(instance__in=instances).count() == 3, timeout=30, what="the paper fills")
    for instance in instances:
        assert Execution.objects.get(instance=instance).status == ExecutionStatus.SUCCESS
        assert Trade.objects.get(instance=instance).side == "buy"
    orders_before = Order.objects.count()
    assert orders_before == 3

    # The batch again (a redelivery or a second beat), then one instance's own task for the same bar.
    again = app.send_task(task.task, args=json.loads(task.args), queue=task.queue).get(timeout=60)
    single = app.send_task(
        "trading.tasks.execute_strategy", args=[instances[0].instance_id], queue=account.queue_name
    ).get(timeout=60)

    assert again["outcomes"] == {"duplicate": 3}, again
    assert single["status"] == "duplicate", single
    assert Order.objects.count() == orders_before
    assert Trade.objects.count() == 3
    assert Execution.objects.count() == 3
