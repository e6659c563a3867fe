"""Bar-close benchmark: 200 strategy instances executed by pinned Celery workers on one bar close.

Run (starts a throw-away PostgreSQL + Redis and tears them down):

    bash scripts/with_services.sh .venv/bin/python bench/bar_close.py [--instances 200] [--workers 2]

The bar close is triggered as beat triggers it: one ``trading.tasks.execute_bar_close(account, timeframe)``
task per account on the account's pinned queue, which runs all of that account's instances in one pass.
Layouts, each measured on a fresh bar in the same run:
  * spread: the instances on four paper accounts (two accounts per worker process);
  * one account: all instances on ONE account (one pinned worker process does them all).
A first round on the cold worker processes is printed apart (process warm-up is not a bar-close cost).
With --per-instance, both layouts are also run the earlier way (one execute_strategy task per instance),
for a ratio measured in the same process. With --scale, a last round runs 1,000 instances on 20 accounts (the
strategy workers share the accounts under leases); its target: every execution recorded < 2 s after the bar
is available, on a 2-core machine.
Every instance sees bars whose last closed bar is an SMA(2)/SMA(4) crossover, so every run places
an order and opens a trade (the worst case: each execution writes). Figures:
  * wall time from "bar available" (bars committed) to the last execution recorded;
  * p50/p99 of one execution's own duration (Execution.duration_ms: inputs, framework, orders; the
    paper broker's fill happens after commit and is not included);
  * the time until every order is filled (the paper broker fills after each batch commits);
  * the floor: a burst of the same number of no-op Celery tasks on the same workers.
Instruments trade every day (always_open) so the benchmark runs on any day of the week.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "asirikuy_site.settings")
# One bench owner holds every account and instance (24 accounts, 1,200 instances with --scale).
os.environ.setdefault("ASIRIKUY_QUOTA_ACCOUNTS", "0")
os.environ.setdefault("ASIRIKUY_QUOTA_INSTANCES", "0")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402

from asirikuy_site.celery import app  # noqa: E402
from framework.catalog import MA_CROSSOVER  # noqa: E402
from trading.models import (  # noqa: E402
    AccountSnapshot,
    Bar,
    BrokerAccount,
    Execution,
    Instrument,
    Order,
    StrategyInstance,
    Trade,
)
from trading.queues import account_queue, shard_queue  # noqa: E402
from trading.services.accounts import account_create  # noqa: E402

SYMBOLS = ["EURUSD", "GBPUSD", "AUDUSD", "NZDUSD", "EURGBP", "EURCHF", "USDCAD", "EURJPY"]


def seed_instruments() -> list[Instrument]:
    out = []
    for symbol in SYMBOLS:
        inst, _ = Instrument.objects.get_or_create(
            symbol=symbol,
            defaults=dict(
                broker_symbol=f"{symbol[:3]}_{symbol[3:]}",
                base_currency=symbol[:3],
                quote_currency=symbol[3:],
                digits=3 if symbol.endswith("JPY") else 5,
                spread_points=10,
                always_open=True,
            ),
        )
        out.append(inst)
    # conversion pairs for non-USD quotes
    for symbol, digits in (("GBPUSD", 5), ("USDCHF", 5), ("USDJPY", 3)):
        Instrument.objects.get_or_create(
            symbol=symbol,
            defaults=dict(base_currency=symbol[:3], quote_currency=symbol[3:], digits=digits, always_open=True),
        )
    return out


def seed_bars(instruments: list[Instrument], last_closed_open: datetime, count: int = 60) -> None:
    Bar.objects.all().delete()
    rows = []
    for inst in list(instruments) + list(Instrument.objects.exclude(symbol__in=SYMBOLS)):
        price = 150000 if inst.digits == 3 else 110000
        for i in range(count):
            t = last_closed_open - timedelta(minutes=count - 1 - i)
            o, c = (price, price - 5) if i < count - 1 else (price, price + 200)
            rows.append(
                Bar(
                    instrument=inst,
                    timeframe=1,
                    time=t,
                    open=o,
                    high=max(o, c) + 10,
                    low=min(o, c) - 10,
                    close=c,
                    volume=50,
                    complete=True,
                )
            )
            price = c
    Bar.objects.bulk_create(rows)
    # The cached bar windows of the bars just replaced; not cache.clear(): the cache shares Redis with the account
    # leases and the queues, and a flush makes every worker lose its accounts in the middle of the round.
    from trading.bars.cache import bars_cache_invalidate

    for inst in Instrument.objects.all():
        bars_cache_invalidate(instrument_id=inst.pk, timeframe=1)


def reset_trading() -> None:
    Order.objects.all().delete()
    Trade.objects.all().delete()
    Execution.objects.all().delete()
    StrategyInstance.objects.all().delete()
    AccountSnapshot.objects.all().delete()
    BrokerAccount.objects.all().delete()


def make_instances(owner, instruments: list[Instrument], *, accounts: int, instances: int) -> list[StrategyInstance]:
    from django_celery_beat.models import PeriodicTask

    # Beat does not run here; the entries are not needed (the benchmark sends what beat would send).
    PeriodicTask.objects.filter(task__in=["trading.tasks.execute_strategy", "trading.tasks.execute_bar_close"]).update(
        enabled=False
    )
    accts = [account_create(owner=owner, name=f"bench {k}", initial_balance=Decimal("100000")) for k in range(accounts)]
    made = []
    for n in range(instances):
        account = accts[n % accounts]
        made.append(
            StrategyInstance.objects.create(
                instance_id=10_000 + n,
                name=f"bench {n}",
                account=account,
                instrument=instruments[n % len(instruments)],
                strategy_id=MA_CROSSOVER,
                timeframe=1,
                parameters={"FAST_PERIOD": 2, "SLOW_PERIOD": 4, "ATR_AVERAGING_PERIOD": 5},
                max_open_orders=1,
            )
        )
    return made


def start_workers(n: int, logdir: Path) -> list[subprocess.Popen]:
    procs = []
    for k in range(n):
        env = {
            **os.environ,
            "ASIRIKUY_WORKER_SHARD": str(k),
            "ASIRIKUY_STRATEGY_SHARDS": str(n),
            "ASIRIKUY_BAR_WAIT_SECONDS": "0",
        }
        log = open(logdir / f"worker{k}.log", "w")  # noqa: SIM115
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "asirikuy_site",
                    "worker",
                    "-P",
                    "solo",
                    "-Q",
                    shard_queue(k),
                    "-n",
                    f"bench{k}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "-l",
                    "warning",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=1.0) or []
        if len(replies) >= n:
            return procs
    raise SystemExit("workers did not come up within 60 s; see the logs in " + str(logdir))


def stop_workers(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


def wait_for_minute_start() -> datetime:
    now = datetime.now(tz=UTC)
    if now.second > 25:
        time.sleep(61 - now.second)
    return datetime.now(tz=UTC)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def floor_burst(count: int, workers: int) -> float:
    t0 = time.perf_counter()
    results = [app.send_task("trading.tasks.noop", queue=shard_queue(i % workers)) for i in range(count)]
    for r in results:
        r.get(timeout=120)
    return time.perf_counter() - t0


def bar_close_round(
    label: str, owner, instruments, *, accounts: int, instances: int, per_instance: bool = False
) -> dict[str, float]:
    reset_trading()
    made = make_instances(owner, instruments, accounts=accounts, instances=instances)
    time.sleep(12)  # the workers subscribe to new account queues within 10 s
    start = wait_for_minute_start()
    last_closed_open = start.replace(second=0, microsecond=0) - timedelta(minutes=1)
    seed_bars(instruments, last_closed_open)
    t0 = time.perf_counter()  # the bar is available
    t0_utc = datetime.now(tz=UTC)
    if per_instance:
        for inst in made:
            app.send_task(
                "trading.tasks.execute_strategy", args=[inst.instance_id], queue=account_queue(inst.account_id)
            )
    else:  # what beat sends: one task per (account, timeframe)
        for account_id in sorted({inst.account_id for inst in made}):
            app.send_task("trading.tasks.execute_bar_close", args=[account_id, 1], queue=account_queue(account_id))
    deadline = time.monotonic() + 300
    wall = None
    while time.monotonic() < deadline:
        if wall is None and Execution.objects.exclude(status="running").count() >= instances:
            wall = time.perf_counter() - t0
        if wall is not None and not Order.objects.filter(status__in=["new", "submitting"]).exists():
            break
        time.sleep(0.02)
    filled = time.perf_counter() - t0
    wall = wall if wall is not None else filled
    durations = [d for d in Execution.objects.values_list("duration_ms", flat=True) if d is not None]
    statuses = dict.fromkeys(Execution.objects.values_list("status", flat=True).distinct(), 0)
    for s in statuses:
        statuses[s] = Execution.objects.filter(status=s).count()
    trades = Trade.objects.count()
    # Where the wall time goes: when each account's batch started and ended, from the bar being available.
    spans = []
    by_worker: dict[str, list[tuple[float, float]]] = {}
    for account_id in sorted({inst.account_id for inst in made}):
        rows = list(Execution.objects.filter(instance__account_id=account_id))
        starts = [(r.started_at - t0_utc).total_seconds() for r in rows]
        ends = [s + (r.duration_ms or 0) / 1000 for s, r in zip(starts, rows, strict=True)]
        if starts:
            spans.append((min(starts), max(ends)))
            by_worker.setdefault(rows[0].holder, []).append(spans[-1])
    how = "one task per instance" if per_instance else "one task per account"
    print(f"\n[{label}, {how}] {instances} instances on {accounts} account(s)")
    print(f"  bar available → last execution recorded: {wall:.3f} s  ({instances / wall:.0f} executions/s)")
    print(f"  bar available → every order filled: {filled:.3f} s")
    print(
        f"  one execution (ms): p50 {statistics.median(durations):.2f}  p99 {percentile(durations, 99):.2f}  "
        f"max {max(durations):.2f}"
    )
    print(f"  statuses {statuses}; trades opened {trades}")
    if len(spans) > 1:
        first = sorted(a for a, _ in spans)
        print(
            f"  account batches started {first[0]:.2f}..{first[-1]:.2f} s after the bar (median {statistics.median(first):.2f}),"
            f" longest batch {max(b - a for a, b in spans):.2f} s"
        )
        for k, (_, worker_spans) in enumerate(sorted(by_worker.items())):
            first = sorted(a for a, _ in worker_spans)
            print(
                f"  worker {k + 1}: {len(worker_spans)} account batches, started {first[0]:.2f}..{first[-1]:.2f} s,"
                f" {(first[-1] - first[0]) / max(len(first) - 1, 1) * 1000:.0f} ms apart on average"
            )
    return {"wall": wall, "filled": filled, "p50": statistics.median(durations), "p99": percentile(durations, 99)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--per-instance", action="store_true", help="also run the earlier layout (one task per instance) for comparison"
    )
    parser.add_argument("--scale", action="store_true", help="also run 1,000 instances on 20 accounts")
    parser.add_argument("--scale-only", action="store_true", help="only the 1,000-instance round (after a warm-up)")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    owner, _ = get_user_model().objects.get_or_create(username="bench")
    instruments = seed_instruments()
    logdir = Path(os.environ.get("ASIRIKUY_VAR_DIR", "/tmp")) / "bench-logs"
    logdir.mkdir(parents=True, exist_ok=True)
    os.environ["ASIRIKUY_STRATEGY_SHARDS"] = str(args.workers)
    procs = start_workers(args.workers, logdir)
    try:
        floor_burst(20, args.workers)  # warm-up
        if args.scale_only:
            bar_close_round("cold workers, spread", owner, instruments, accounts=4, instances=args.instances)
            scale = bar_close_round("scale", owner, instruments, accounts=20, instances=1000)
            print(f"scale: all recorded {scale['wall']:.2f} s after the bar is available (target < 2 s)")
            return
        floor = floor_burst(args.instances, args.workers)
        # Workers live for weeks: their first bar close (imports, library load, each instance's framework
        # init, first connections) is shown apart, then each layout is measured on warm workers.
        bar_close_round("cold workers, spread", owner, instruments, accounts=4, instances=args.instances)
        spread = bar_close_round("spread", owner, instruments, accounts=4, instances=args.instances)
        single = bar_close_round("one account", owner, instruments, accounts=1, instances=args.instances)
        print(f"\nfloor: {args.instances} no-op tasks on {args.workers} workers: {floor:.3f} s")
        print(
            f"ratio spread / floor: {spread['wall'] / floor:.2f}x;  one account / floor: {single['wall'] / floor:.2f}x"
        )
        if args.per_instance:
            old_spread = bar_close_round(
                "spread", owner, instruments, accounts=4, instances=args.instances, per_instance=True
            )
            old_single = bar_close_round(
                "one account", owner, instruments, accounts=1, instances=args.instances, per_instance=True
            )
            print(
                f"ratio per-instance tasks / batch: spread {old_spread['wall'] / spread['wall']:.2f}x, "
                f"one account {old_single['wall'] / single['wall']:.2f}x"
            )
        print(
            f"targets: all done ≤ 1.5 s (spread {spread['wall']:.2f} s, one account {single['wall']:.2f} s); "
            f"p99 ≤ 20 ms (spread {spread['p99']:.1f}, one account {single['p99']:.1f})"
        )
        if args.scale:
            scale = bar_close_round("scale", owner, instruments, accounts=20, instances=1000)
            print(
                f"scale: 1,000 instances on 20 accounts, {args.workers} workers: all recorded {scale['wall']:.2f} s "
                f"after the bar is available (target < 2 s: {'met' if scale['wall'] < 2.0 else 'NOT met'})"
            )
    finally:
        stop_workers(procs)


if __name__ == "__main__":
    main()
