"""The world the faults hit: paper and OANDA accounts with their instances, the fake OANDA, and what we watch.

Imported after ``django.setup()``. Instruments are simulated (the feed writes an M1 bar every minute) and trade
every day, so a run is the same on any day; the fake OANDA's prices follow the simulated bars.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import close_old_connections, connection
from django.db.models import Count

from trading.models import Bar, Execution, Instrument, Order, OrderStatus, StrategyInstance, Trade

logger = logging.getLogger("faults")
SYMBOLS = {"EURUSD": ("EUR_USD", 5, -4), "GBPUSD": ("GBP_USD", 5, -4), "AUDUSD": ("AUD_USD", 5, -4),
           "USDJPY": ("USD_JPY", 3, -2)}  # fmt: skip
PERIODS = [(2, 4), (2, 5), (3, 6), (3, 7), (4, 8), (2, 6)]
IN_FLIGHT = (OrderStatus.NEW, OrderStatus.SUBMITTING, OrderStatus.UNKNOWN)
OPEN_ENTRY = (*IN_FLIGHT, OrderStatus.PENDING)


@dataclass
class World:
    fake: Any
    paper_accounts: list[int]
    oanda_account: int
    instances: dict[int, int] = field(default_factory=dict)  # instance id -> max_open_orders
    oanda_instances: set[int] = field(default_factory=set)


def world_seed(fake: Any, *, paper_accounts: int, per_paper: int, oanda_instances: int) -> World:
    from django.contrib.auth import get_user_model
    from django_celery_beat.models import PeriodicTask

    from framework.catalog import MA_CROSSOVER
    from trading.services.accounts import account_create
    from trading.services.feed import feed_ensure
    from trading.services.instances import instance_create

    owner = get_user_model().objects.create_user("faults", password="faults-only-123")
    instruments = []
    for symbol, (broker_symbol, digits, pip) in SYMBOLS.items():
        instruments.append(
            Instrument.objects.create(
                symbol=symbol, broker_symbol=broker_symbol, base_currency=symbol[:3], quote_currency=symbol[3:],
                digits=digits, pip_location=pip, contract_size=Decimal("100000"), spread_points=12,
                simulated=True, always_open=True,
            )
        )  # fmt: skip
    for instrument in instruments:
        feed_ensure(instrument, datetime.now().astimezone())
    paper = [
        account_create(owner=owner, name=f"paper {k}", initial_balance=Decimal("100000")) for k in range(paper_accounts)
    ]
    oanda = account_create(owner=owner, name="fake OANDA", broker="oanda", environment="practice",
                           broker_account_id=fake.account_id, token=fake.token)  # fmt: skip
    world = World(fake, [a.pk for a in paper], oanda.pk)
    plan = [(a, per_paper) for a in paper] + [(oanda, oanda_instances)]
    n = 0
    for account, count in plan:
        for k in range(count):
            fast, slow = PERIODS[n % len(PERIODS)]
            instance = instance_create(
                account=account, instrument=instruments[n % len(instruments)], strategy_id=MA_CROSSOVER,
                name=f"{account.name} {k}", timeframe=1, parameters={"FAST_PERIOD": fast, "SLOW_PERIOD": slow},
                risk_percent=Decimal("0.2"), max_open_orders=1,
            )  # fmt: skip
            world.instances[instance.instance_id] = 1
            if account.pk == oanda.pk:
                world.oanda_instances.add(instance.instance_id)
            n += 1
    # The candles come from the simulated feed here, not from the fake's candle endpoint.
    PeriodicTask.objects.filter(task="trading.tasks.oanda_bars_keep_current").update(enabled=False)
    return world


def market_follow(world: World, stop: threading.Event) -> None:
    """Every two seconds the fake's prices become the newest simulated bar's close (SL/TP fill there)."""
    while not stop.wait(2.0):
        try:
            close_old_connections()
            for inst in Instrument.objects.filter(simulated=True):
                close = (
                    Bar.objects.filter(instrument=inst, timeframe=1)
                    .order_by("-time")
                    .values_list("close", flat=True)
                    .first()
                )
                if close is not None:
                    bid = inst.from_points(close)
                    world.fake.set_price(inst.broker_symbol, bid, bid + inst.from_points(inst.spread_points))
        except Exception:  # PostgreSQL may be down on purpose
            connection.close()


def over_limit(world: World) -> list[tuple[int, int]]:
    """(instance, positions) of every instance holding more open trades than its max_open_orders, in our
    database or at the broker.

    Entries in flight are not positions: a stop-and-reverse has its entry in flight while its close is, by
    design (the guard counts the entry and lets the same run's exit make room; dispatch sends the close first
    and holds the entry while the close has no known outcome)."""
    held: Counter[int] = Counter()
    for row in Trade.objects.filter(state="open", instance__isnull=False).values("instance_id").annotate(n=Count("id")):
        held[row["instance_id"]] += row["n"]
    out = [(i, n) for i, n in held.items() if n > world.instances.get(i, 1)]
    broker: Counter[str] = Counter()
    for trade in world.fake.open_trades():
        tag = ((trade.get("clientExtensions") or {}).get("id") or "").split("-")[0]
        broker[tag] += 1
    out += [(int(tag[2:]), n) for tag, n in broker.items() if tag.startswith("at") and n > 1]
    return out


class Monitor:
    """Samples positions against the limit every second, all run long (violations with their time)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.violations: list[tuple[float, int, int]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="monitor", daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(1.0):
            try:
                close_old_connections()
                now = time.time()
                self.violations += [(now, i, n) for i, n in over_limit(self.world)]
            except Exception:
                connection.close()


def executions_by_bar(bars: list[datetime]) -> dict[datetime, dict[int, str]]:
    out: dict[datetime, dict[int, str]] = {bar: {} for bar in bars}
    for instance_id, bar, status in Execution.objects.filter(bar_time__in=bars).values_list(
        "instance_id", "bar_time", "status"
    ):
        out[bar][instance_id] = status
    return out


def in_flight_orders() -> int:
    return Order.objects.filter(status__in=IN_FLIGHT).count()


def running_executions() -> int:
    return Execution.objects.filter(status="running").count()


def instances_ids() -> list[int]:
    return list(StrategyInstance.objects.values_list("instance_id", flat=True))
