"""Optimisation throughput: PASSES fast-engine passes of BARS stored M1 bars each (default 1,000 x 100,000) through
Celery workers with 2 processes, the passes sent in batches (backtests.optimization_batch: the bars loaded once
per task and window layout), then, for comparison, a tenth as many passes sent one task each (how passes went
before batches). Needs the throw-away PostgreSQL + Redis of scripts/with_services.sh:

    bash scripts/with_services.sh .venv/bin/python bench/backtest_speed.py --optimization [passes] [bars]
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = 2


def _setup(bars: int):  # -> StrategyInstance (Django models are imported after django.setup)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from backtests.engine.synthetic import random_walk
    from framework import MA_CROSSOVER
    from trading.models import Bar, BrokerAccount, Instrument, StrategyInstance

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench", password="bench-pass-123")
    eurusd = Instrument.objects.create(
        symbol="EURUSD",
        broker_symbol="EUR_USD",
        base_currency="EUR",
        quote_currency="USD",
        digits=5,
        pip_location=-4,
        contract_size=Decimal("100000"),
        margin_rate=Decimal("0.02"),
        spread_points=10,
    )
    account = BrokerAccount.objects.create(
        owner=user, name="bench", broker="paper", currency="USD", balance=Decimal("10000"), equity=Decimal("10000")
    )
    walk = random_walk(bars, seed=5, t0=1_704_153_600)
    Bar.objects.bulk_create(
        (
            Bar(
                instrument=eurusd,
                timeframe=1,
                time=datetime.fromtimestamp(int(t), tz=UTC),
                open=int(o),
                high=int(h),
                low=int(lo),
                close=int(c),
                volume=1,
            )
            for t, o, h, lo, c in zip(walk["time"], walk["open"], walk["high"], walk["low"], walk["close"], strict=True)
        ),
        batch_size=5000,
    )
    return StrategyInstance.objects.create(
        instance_id=7001,
        name="bench",
        account=account,
        instrument=eurusd,
        strategy_id=MA_CROSSOVER,
        timeframe=1,
        max_open_orders=1,
        parameters={"FAST_PERIOD": 10, "SLOW_PERIOD": 30},
        enabled=False,
    )


def _space(passes: int) -> dict:
    """FAST_PERIOD 2..(passes / 50 + 1) x SLOW_PERIOD 25..270 step 5: 50 x (passes / 50) points."""
    fast = max(1, passes // 50)
    return {"FAST_PERIOD": {"min": 2, "max": 1 + fast}, "SLOW_PERIOD": {"min": 25, "max": 270, "step": 5}}


def _timed_search(instance, passes: int, batched: bool) -> tuple[float, int, list[str]]:
    from celery import group
    from django.db import transaction

    from backtests.models import Optimization, RunStatus
    from backtests.services.optimization import optimization_create, optimization_enqueue
    from backtests.tasks import optimization_pass_task

    opt = optimization_create(instance=instance, space=_space(passes), engine="fast")
    started = time.perf_counter()
    if batched:
        with transaction.atomic():
            optimization_enqueue(optimization=opt)
    else:  # one task per pass, as passes were sent before batches
        ids = list(opt.passes.values_list("pk", flat=True))
        Optimization.objects.filter(pk=opt.pk).update(status=RunStatus.RUNNING)
        group(optimization_pass_task.s(pk) for pk in ids).apply_async()
    while Optimization.objects.get(pk=opt.pk).status != RunStatus.DONE:
        time.sleep(0.1)
    seconds = time.perf_counter() - started
    failed = list(opt.passes.exclude(status=RunStatus.DONE).values_list("error", flat=True))
    if failed:
        raise SystemExit(f"{len(failed)} passes did not finish: {failed[0]}")
    return seconds, opt.passes.count(), sorted(set(opt.passes.values_list("worker", flat=True)))


def optimization_throughput(passes: int = 1000, bars: int = 100_000) -> None:
    instance = _setup(bars)
    from trading.queues import Queue  # after _setup's django.setup()

    log_path = Path("/tmp/bench-opt-worker.log")
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "asirikuy_site",
                "worker",
                "-P",
                "prefork",
                "-c",
                str(PROCESSES),
                "-Q",
                Queue.BACKTESTS,
                "-n",
                "bench@%h",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "warning",
            ],
            env={**os.environ},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            time.sleep(5)  # let the pool start (not part of the timings)
            if worker.poll() is not None:
                raise SystemExit(f"the worker exited; see {log_path}")
            load = os.getloadavg()
            seconds, count, workers = _timed_search(instance, passes, batched=True)
            print(
                f"{count:,} fast-engine passes x {bars:,} stored M1 bars, batched, {PROCESSES} worker processes: "
                f"{seconds:.1f} s, {count / seconds:.1f} passes/s, {count * bars / seconds / 1e6:.1f} M bars/s "
                f"(goal: 1,000 x 100,000 in < 30 s) on {workers}; load average at the start {load[0]:.2f}"
            )
            few = max(1, passes // 10)
            seconds_one, count_one, _ = _timed_search(instance, few, batched=False)
            print(
                f"{count_one:,} passes sent one task each (as before batches): {seconds_one:.1f} s, "
                f"{count_one / seconds_one:.1f} passes/s; batches: {count / seconds / (count_one / seconds_one):.1f}x"
            )
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=60)
