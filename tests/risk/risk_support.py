"""Helpers for the risk tests: a known Tuesday, bars at a fixed price, instances, trades opened the real way."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from framework.catalog import MA_CROSSOVER
from tests.support.builders import make_flat_bars as make_bars  # noqa: F401 (the tests import it from here)

BID = Decimal("1.10000")
T0 = datetime(2024, 3, 12, 10, 0, tzinfo=UTC)  # a Tuesday, market open
SATURDAY = datetime(2024, 3, 16, 12, 0, tzinfo=UTC)
MONDAY = datetime(2024, 3, 18, 9, 0, tzinfo=UTC)


def make_instance(account, instrument, instance_id: int, name: str):
    from trading.models import StrategyInstance

    return StrategyInstance.objects.create(
        instance_id=instance_id,
        name=name,
        account=account,
        instrument=instrument,
        strategy_id=MA_CROSSOVER,
        timeframe=1,
        parameters={"FAST_PERIOD": 3, "SLOW_PERIOD": 8},
        max_open_orders=10,  # room for several entries: these tests are about the limits, not this setting
    )


def open_via_broker(account, instance, side: str = "buy", units: str = "10000"):
    """Open a trade the real way: a NEW order dispatched to the paper broker."""
    from trading.models import Order, Trade
    from trading.services.orders.dispatch import orders_dispatch

    n = Order.objects.count() + 1
    order = Order.objects.create(
        client_order_id=f"t{n}",
        account=account,
        instance=instance,
        instrument=instance.instrument,
        intent="open",
        order_type="market",
        side=side,
        units=Decimal(units),
        status="new",
    )
    orders_dispatch(account_id=account.pk, instrument_id=instance.instrument_id)
    order.refresh_from_db()
    return Trade.objects.get(pk=order.trade_id)
