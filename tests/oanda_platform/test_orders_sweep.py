"""The order sweeper: orders whose dispatcher died are sent (or expired) within seconds, never twice."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from decimal import Decimal

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from trading.models import Bar, Order, OrderStatus, Trade
from trading.queues import Queue
from trading.services.orders.sweep import ORPHAN_SECONDS, SUBMIT_STUCK_SECONDS, orders_sweep

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="reads the tasks it sends from the Redis broker")


@pytest.fixture
def broker_io():
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(Queue.BROKER_IO)
    cache.clear()
    yield client
    client.delete(Queue.BROKER_IO)
    client.close()


def _sent(client) -> list[tuple[str, list, dict]]:
    out = []
    for raw in client.lrange(Queue.BROKER_IO, 0, -1):
        message = json.loads(raw)
        args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
        out.append((message["headers"]["task"], args, kwargs))
    return out


def _age(order: Order, seconds: float, field: str = "created_at") -> None:
    Order.objects.filter(pk=order.pk).update(**{field: timezone.now() - timedelta(seconds=seconds)})


@pytest.fixture
def paper_market(transactional_db, paper_account, eurusd):
    eurusd.always_open = True
    eurusd.save()
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=5)
    Bar.objects.bulk_create(
        [
            Bar(
                instrument=eurusd,
                timeframe=1,
                time=start + timedelta(minutes=i),
                open=110000,
                high=110010,
                low=109990,
                close=110000,
                volume=1,
            )
            for i in range(5)
        ]
    )
    return paper_account, eurusd


def _paper_entry(account, instrument, n: int) -> Order:
    return Order.objects.create(
        client_order_id=f"sweep-{n}",
        account=account,
        instrument=instrument,
        intent="open",
        order_type="market",
        side="buy",
        units=Decimal("1000"),
        status=OrderStatus.NEW,
    )


def test_an_orphaned_paper_entry_is_filled_and_a_late_one_is_cancelled(paper_market, broker_io):
    account, instrument = paper_market
    orphan, late, young = (_paper_entry(account, instrument, n) for n in range(3))
    _age(orphan, ORPHAN_SECONDS + 5)
    _age(late, settings.ORDER_MAX_AGE_SECONDS + 5)

    orders_sweep()

    orphan.refresh_from_db(), late.refresh_from_db()
    assert orphan.status == OrderStatus.FILLED and Trade.objects.filter(pk=orphan.trade_id).exists()
    assert late.status == OrderStatus.CANCELLED and "never sent" in late.reject_reason
    young.refresh_from_db()
    assert young.status in (OrderStatus.NEW, OrderStatus.FILLED)  # the same pass may send it; never twice
    assert Trade.objects.count() == Order.objects.filter(status=OrderStatus.FILLED).count()


def test_an_orphaned_oanda_entry_gets_a_dispatch_task(oanda_account, new_order, broker_io):
    order = new_order()
    _age(order, ORPHAN_SECONDS + 5)

    orders_sweep()

    assert _sent(broker_io) == [
        ("trading.tasks.orders_dispatch", [], {"account_id": oanda_account.pk, "instrument_id": order.instrument_id})
    ]


def test_an_oanda_order_left_submitting_by_a_dead_dispatcher_is_parked_for_the_resolver(
    oanda_account, new_order, broker_io
):
    order = new_order()
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.SUBMITTING)
    _age(order, SUBMIT_STUCK_SECONDS + 5, "submitted_at")

    first = orders_sweep()
    orders_sweep()  # the resolver was asked a moment ago: not again

    order.refresh_from_db()
    assert order.status == OrderStatus.UNKNOWN
    assert "dispatcher stopped" in order.reject_reason
    assert first["parked"] == 1
    assert _sent(broker_io) == [("trading.tasks.orders_resolve_unknown", [oanda_account.pk], {})]


def test_a_dispatch_lock_left_by_a_dead_dispatcher_on_this_host_is_taken_at_once(paper_market, broker_io):
    import socket
    import subprocess
    import sys

    account, instrument = paper_market
    orphan = _paper_entry(account, instrument, 9)
    _age(orphan, ORPHAN_SECONDS + 5)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(timeout=10)
    cache.set(f"asirikuy:dispatch-lock:{account.pk}:{instrument.pk}", f"{socket.gethostname()}:{gone.pid}:x", 30)

    orders_sweep()

    orphan.refresh_from_db()
    assert orphan.status == OrderStatus.FILLED


def test_a_submitting_order_is_parked_at_once_without_a_live_dispatcher_and_left_to_a_live_one(
    oanda_account, new_order, broker_io
):
    import os
    import socket

    orphan, busy = new_order(), new_order()
    Order.objects.filter(pk__in=[orphan.pk, busy.pk]).update(status=OrderStatus.SUBMITTING)
    _age(orphan, ORPHAN_SECONDS + 5, "submitted_at")
    _age(busy, ORPHAN_SECONDS + 5, "submitted_at")
    # `busy`'s instrument is held by this very process (a live dispatcher); `orphan`'s, another one, by nobody.
    from trading.models import Instrument

    usdjpy = Instrument.objects.create(symbol="USDJPY", broker_symbol="USD_JPY", base_currency="USD",
                                       quote_currency="JPY", digits=3, pip_location=-2)  # fmt: skip
    Order.objects.filter(pk=orphan.pk).update(instrument=usdjpy)
    cache.set(
        f"asirikuy:dispatch-lock:{oanda_account.pk}:{busy.instrument_id}", f"{socket.gethostname()}:{os.getpid()}:t", 30
    )

    orders_sweep()

    orphan.refresh_from_db(), busy.refresh_from_db()
    assert orphan.status == OrderStatus.UNKNOWN
    assert busy.status == OrderStatus.SUBMITTING
