from __future__ import annotations

from datetime import timedelta

from trading.models import Bar, Execution, ExecutionStatus, Order, Trade
from trading.services.execution import execution_run

from .conftest import RUN_AT


def _run_until_a_trade(instance_id, start, limit=240):
    now = start
    for _ in range(limit):
        execution_run(instance_id=instance_id, now=now)
        if Trade.objects.filter(instance_id=instance_id).exists():
            return now
        now += timedelta(minutes=1)
    raise AssertionError(f"no trade within {limit} bars")


def test_first_run_creates_feed_bars_and_a_successful_execution(ma_instance):
    outcome = execution_run(instance_id=ma_instance.instance_id, now=RUN_AT)

    assert outcome.status == "ran", outcome.detail
    execution = Execution.objects.get(pk=outcome.execution_id)
    assert execution.status == ExecutionStatus.SUCCESS
    assert execution.bar_time == RUN_AT.replace(minute=36, second=0)
    assert execution.return_code == 0
    assert Bar.objects.filter(instrument=ma_instance.instrument, timeframe=1).count() > 1000


def test_second_delivery_of_the_same_bar_does_nothing(ma_instance):
    first = execution_run(instance_id=ma_instance.instance_id, now=RUN_AT)
    again = execution_run(instance_id=ma_instance.instance_id, now=RUN_AT + timedelta(seconds=20))

    assert first.status == "ran"
    assert again.status == "duplicate"
    assert Execution.objects.filter(instance=ma_instance).count() == 1


def test_crossover_opens_a_trade_with_stops_and_a_rerun_places_nothing_new(ma_instance):
    traded_at = _run_until_a_trade(ma_instance.instance_id, RUN_AT)
    trade = Trade.objects.get(instance=ma_instance)
    order = Order.objects.get(trade=trade)
    orders_before = Order.objects.count()

    outcome = execution_run(instance_id=ma_instance.instance_id, now=traded_at)

    assert outcome.status == "duplicate"
    assert Order.objects.count() == orders_before
    assert order.client_order_id.startswith(f"at{ma_instance.instance_id}-")
    assert trade.stop_loss is not None and trade.take_profit is not None
    if trade.side == "buy":
        assert trade.stop_loss < trade.open_price < trade.take_profit
    else:
        assert trade.take_profit < trade.open_price < trade.stop_loss
    assert trade.current_units > 0
    assert trade.current_units % 1000 == 0  # 0.01-lot steps of a 100,000 contract


def test_weekend_bar_is_not_run(ma_instance):
    saturday = RUN_AT - timedelta(days=3)

    outcome = execution_run(instance_id=ma_instance.instance_id, now=saturday)

    assert outcome.status == "market_closed"
    assert not Execution.objects.exists()
