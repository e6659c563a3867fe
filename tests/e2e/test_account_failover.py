"""Shard failover with real worker processes: a killed strategy worker's accounts are served by the other."""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from asirikuy_site.celery import app
from framework.catalog import MA_CROSSOVER
from trading.models import Execution, ExecutionStatus, Instrument
from trading.queues import account_queue
from trading.services.accounts import account_create
from trading.services.instances import instance_create

from .test_worker_executes_strategy import _await_early_in_minute, _seed_crossover_bars

pytestmark = pytest.mark.slow
PARAMS = {"FAST_PERIOD": 2, "SLOW_PERIOD": 4, "ATR_AVERAGING_PERIOD": 5}


def _bar_close_everywhere(accounts) -> None:
    results = [
        app.send_task("trading.tasks.execute_bar_close", args=[a.pk, 1], queue=account_queue(a.pk)) for a in accounts
    ]
    for result in results:
        result.get(timeout=90)


def _pid(holder: str) -> int:
    return int(holder.rpartition(":")[2])


def test_a_killed_workers_accounts_are_served_by_the_other_worker(alice, start_worker):
    _await_early_in_minute()
    instrument = Instrument.objects.create(
        symbol="EURUSD", base_currency="EUR", quote_currency="USD", digits=5, spread_points=10, always_open=True
    )
    _seed_crossover_bars(instrument, datetime.now(tz=UTC).replace(second=0, microsecond=0) - timedelta(minutes=1))
    accounts = [account_create(owner=alice, name=f"failover {k}", initial_balance=Decimal("10000")) for k in range(3)]

    def add_instances(tag: str) -> list:
        return [
            instance_create(
                account=a,
                instrument=instrument,
                strategy_id=MA_CROSSOVER,
                name=f"{tag} {a.pk}",
                timeframe=1,
                parameters=dict(PARAMS),
            )
            for a in accounts
        ]

    first = add_instances("first")
    fast = {"ASIRIKUY_ACCOUNT_LEASE_SECONDS": "3"}
    workers = [start_worker(shard=k, name=f"strategy{k}", extra_env=fast) for k in range(2)]

    _bar_close_everywhere(accounts)

    served_by = {e.instance.account_id: _pid(e.holder) for e in Execution.objects.filter(instance__in=first)}
    assert set(served_by.values()) <= {w.pid for w in workers}
    assert {e.status for e in Execution.objects.filter(instance__in=first)} == {ExecutionStatus.SUCCESS}
    victim = next(w for w in workers if w.pid == served_by[accounts[0].pk])
    survivor = next(w for w in workers if w is not victim)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)

    second = add_instances("second")  # new instances: the same bar has work again on every account
    _bar_close_everywhere(accounts)

    rows = Execution.objects.filter(instance__in=second)
    assert rows.count() == len(accounts)
    assert {(e.status, _pid(e.holder)) for e in rows} == {(ExecutionStatus.SUCCESS, survivor.pid)}
