"""Dispatch has an end: a late market entry is never sent, and an order dispatch gave up on ends FAILED."""

from __future__ import annotations

import socket
from datetime import timedelta

from django.utils import timezone

from trading.models import Order, OrderStatus
from trading.services.orders.dispatch import orders_dispatch
from trading.tasks import orders_dispatch_task
from trading.venues.oanda.client import oanda_clients_reset


def test_a_market_entry_older_than_the_max_age_is_cancelled_with_its_reason_and_never_sent(
    settings, fake, oanda_account, new_order
):
    settings.ORDER_MAX_AGE_SECONDS = 30
    late = new_order()
    fresh = new_order()
    Order.objects.filter(pk=late.pk).update(created_at=timezone.now() - timedelta(seconds=31))

    orders_dispatch(account_id=late.account_id, instrument_id=late.instrument_id)

    late.refresh_from_db()
    fresh.refresh_from_db()
    assert late.status == OrderStatus.CANCELLED
    assert late.reject_reason == "not sent within 30 s of its signal: a late market entry is never sent"
    assert fresh.status == OrderStatus.FILLED
    assert fake.count("POST", "/orders") == 1  # only the fresh one reached the broker


def test_a_late_close_still_goes_out(settings, fake, oanda_account, new_order):
    settings.ORDER_MAX_AGE_SECONDS = 30
    entry = new_order()
    orders_dispatch(account_id=entry.account_id, instrument_id=entry.instrument_id)
    entry.refresh_from_db()
    close = Order.objects.create(
        client_order_id="close-late",
        account=entry.account,
        instance=entry.instance,
        instrument=entry.instrument,
        intent="close",
        order_type="market",
        side="sell",
        units=entry.units,
        trade=entry.trade,
        status=OrderStatus.NEW,
    )
    Order.objects.filter(pk=close.pk).update(created_at=timezone.now() - timedelta(minutes=10))

    orders_dispatch(account_id=entry.account_id, instrument_id=entry.instrument_id)

    close.refresh_from_db()
    assert close.status == OrderStatus.DONE
    assert entry.trade is not None and fake.count("PUT", f"/trades/{entry.trade.broker_trade_id}/close") == 1


def test_when_the_last_retry_fails_the_orders_end_failed_with_the_reason(
    monkeypatch, settings, fake, oanda_account, new_order
):
    # Eager tasks here report their retries and failures as a worker would, instead of raising them.
    monkeypatch.setattr(orders_dispatch_task.app.conf, "task_eager_propagates", False)
    order = new_order()
    with socket.socket() as probe:  # a loopback port nobody listens on: every request is refused
        probe.bind(("127.0.0.1", 0))
        settings.OANDA_PRACTICE_URL = f"http://127.0.0.1:{probe.getsockname()[1]}"
    oanda_clients_reset()

    kwargs = {"account_id": order.account_id, "instrument_id": order.instrument_id}

    # Eager retries run at once, one after the other: all 1 + max_retries attempts happen in this call.
    result = orders_dispatch_task.apply(kwargs=kwargs, retries=orders_dispatch_task.max_retries - 1)
    order.refresh_from_db()

    assert result.failed()
    assert order.status == OrderStatus.FAILED
    assert order.reject_reason.startswith("not sent: the broker could not be reached after 6 retries")
    assert fake.count("POST", "/orders") == 0
    assert not Order.objects.filter(pk=order.pk, status=OrderStatus.NEW).exists()
