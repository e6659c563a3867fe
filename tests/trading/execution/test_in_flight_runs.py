"""Real strategy runs while entries stay in flight: an instance never holds more than max_open_orders.

The dispatcher of the account's instrument is stuck (another process holds its lock, as when it died with it):
every entry the strategies make stays NEW for bars on end. The book shows them as open and the guard counts
them, so no bar opens again; once the dispatcher is back the entries fill, still within the limit.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.core.cache import cache

from trading.models import Order, OrderIntent, OrderStatus, Trade, TradeState
from trading.services.execution import execution_bar_close
from trading.services.instances import instance_create
from trading.services.orders.dispatch import orders_dispatch

from .conftest import RUN_AT

IN_FLIGHT = (OrderStatus.NEW, OrderStatus.SUBMITTING, OrderStatus.UNKNOWN, OrderStatus.PENDING)


def positions(instance) -> int:
    """What the instance holds or may hold: open trades plus entries not answered yet."""
    trades = Trade.objects.filter(instance=instance, state=TradeState.OPEN).count()
    return trades + Order.objects.filter(instance=instance, intent=OrderIntent.OPEN, status__in=IN_FLIGHT).count()


def test_entries_in_flight_for_many_bars_never_take_an_instance_past_max_open_orders(
    paper_account, sim_eurusd, settings
):
    from framework.catalog import MA_CROSSOVER

    settings.BAR_WAIT_SECONDS = 0
    instances = [
        instance_create(
            account=paper_account,
            instrument=sim_eurusd,
            strategy_id=MA_CROSSOVER,
            name=f"fast {fast}/{slow}",
            timeframe=1,
            parameters={"FAST_PERIOD": fast, "SLOW_PERIOD": slow},
            risk_percent=Decimal("0.5"),
            max_open_orders=1,
        )
        for fast, slow in ((2, 4), (2, 5), (3, 6))
    ]
    lock = f"asirikuy:dispatch-lock:{paper_account.pk}:{sim_eurusd.pk}"
    cache.set(lock, "a dispatcher that died", 600)
    worst, entries = 0, 0
    now = RUN_AT
    try:
        for _ in range(60):
            execution_bar_close(account_id=paper_account.pk, timeframe=1, now=now)
            worst = max([worst, *(positions(i) for i in instances)])
            now += timedelta(minutes=1)
        entries = Order.objects.filter(intent=OrderIntent.OPEN, status=OrderStatus.NEW).count()
    finally:
        cache.delete(lock)
    orders_dispatch(account_id=paper_account.pk, instrument_id=sim_eurusd.pk)

    assert entries >= 2, "the strategies should have wanted to trade during the hour"
    assert worst <= 1
    assert all(positions(i) <= 1 for i in instances)
    assert Trade.objects.filter(state=TradeState.OPEN).count() <= len(instances)
