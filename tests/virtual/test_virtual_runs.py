"""Real strategy runs (the framework) of two instances on one FIFO paper account in virtual mode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from framework.catalog import MA_CROSSOVER
from trading.models import Order, OrderStatus, Trade
from trading.services.execution import execution_run
from trading.services.instances import instance_create
from trading.venues.paper.simulate import paper_account_process

from .conftest import nets

RUN_AT = datetime(2024, 3, 12, 14, 37, 5, tzinfo=UTC)  # a Tuesday afternoon


@pytest.mark.slow
def test_runs_of_two_instances_keep_the_broker_net_equal_to_the_virtual_net(fifo_paper, eurusd, settings):
    settings.BAR_WAIT_SECONDS = 0
    eurusd.simulated = True
    eurusd.save()
    fifo_paper.paper_processed_until = None
    fifo_paper.save()
    made = [
        instance_create(
            account=fifo_paper,
            instrument=eurusd,
            strategy_id=MA_CROSSOVER,
            name=name,
            timeframe=1,
            parameters={"FAST_PERIOD": fast, "SLOW_PERIOD": slow, "SL_ATR_MULTIPLIER": 2.0, "TP_ATR_MULTIPLIER": 3.0},
            risk_percent=Decimal("1.0"),
            max_open_orders=1,
        )
        for name, fast, slow in (("fast", 2, 5), ("slow", 3, 8))
    ]
    seen: list[tuple[Decimal, Decimal, Decimal]] = []

    now = RUN_AT
    for _ in range(90):
        for inst in made:
            execution_run(instance_id=inst.instance_id, now=now)
        paper_account_process(fifo_paper, until=now)
        seen.append(nets(fifo_paper))
        now += timedelta(minutes=1)

    assert Trade.objects.filter(virtual=True).count() >= 2
    assert {t.instance_id for t in Trade.objects.filter(virtual=True)} == {m.pk for m in made}
    assert all(virtual == broker and flight == 0 for virtual, broker, flight in seen)
    assert not Trade.objects.filter(virtual=False, instance__isnull=False).exists()
    assert not Order.objects.filter(status__in=(OrderStatus.NEW, OrderStatus.SUBMITTING, OrderStatus.UNKNOWN)).exists()
