"""Helpers for the ops tests: a paper market at a known Tuesday, fills the real way, one pass as beat runs it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tests.support.builders import make_flat_bars as make_bars  # noqa: F401 (the tests import it from here)

T0 = datetime(2024, 3, 12, 10, 0, tzinfo=UTC)  # a Tuesday, market open


def make_instance(account, instrument, instance_id: int, name: str):
    from framework.catalog import MA_CROSSOVER
    from trading.models import StrategyInstance

    return StrategyInstance.objects.create(
        instance_id=instance_id,
        name=name,
        account=account,
        instrument=instrument,
        strategy_id=MA_CROSSOVER,
        timeframe=1,
        parameters={"FAST_PERIOD": 3, "SLOW_PERIOD": 8},
    )


def fill(account, instance, side: str = "buy", units: str = "10000"):
    """A NEW market order dispatched to the paper broker (it fills in this process); returns the order."""
    from trading.models import Order
    from trading.services.orders.dispatch import orders_dispatch

    order = Order.objects.create(
        client_order_id=f"ops-{Order.objects.count() + 1}",
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
    return order


def run_pass(**kwargs):
    """One notifier/watchdog pass, as beat runs it (channels are sent by the caller)."""
    from ops.notify.passes import ops_pass

    result = ops_pass(enqueue=False, **kwargs)
    assert not result.skipped, result.skipped
    return result


def deliver(channel) -> dict:
    from ops.notify.send import notifications_send

    return notifications_send(channel_id=channel.pk)


def closed_port_url(path: str) -> str:
    """A loopback URL nothing listens on (bound, then closed): for connection failures."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
