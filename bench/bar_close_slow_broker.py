"""Bar close against a slow broker: 200 instances on ONE OANDA account, 8 instruments, 100 ms per order.

Run (starts a throw-away PostgreSQL + Redis and tears them down):

    bash scripts/with_services.sh .venv/bin/python bench/bar_close_slow_broker.py [--instances 200] [--latency 0.1]

The broker is the fake OANDA (tests/support/fake_oanda) on 127.0.0.1, in this process, with a latency fault on
every POST .../orders. A pinned strategy worker runs the account's bar-close batch (one
``execute_bar_close`` task, as beat sends it); the batch hands each instrument's orders to the threaded
``broker_io`` worker, which sends one instrument's orders in sequence and different instruments at the
same time. Every instance sees a crossover on its last closed bar, so each places one market order.
Figures: time from "bar available" until every order is filled and recorded, and the ratio against
sending the same orders one after another (orders × latency, 20 s for the defaults); the orders of each
instrument are checked to have been sent in creation order.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path[:0] = [str(ROOT), str(ROOT.parent)]

from tests.support.fake_oanda import FakeOanda  # noqa: E402
from tests.support.fake_oanda.instruments import FakeInstrument  # noqa: E402

# The fake serves in this process; the worker processes must see it too (read from the environment).
# Hedging: every instance opens its own trade (a FIFO account would refuse stacked trades with their own stops).
FAKE = FakeOanda.start(heartbeat_interval=1.0, hedging=True, fifo=False)
os.environ["OANDA_PRACTICE_URL"] = os.environ["OANDA_PRACTICE_STREAM_URL"] = FAKE.url

import bar_close as common  # noqa: E402  (django.setup() happens there)
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db.models import Max, Min  # noqa: E402

from asirikuy_site.celery import app  # noqa: E402
from framework.catalog import MA_CROSSOVER  # noqa: E402
from trading.models import Bar, Execution, Instrument, Order, StrategyInstance  # noqa: E402
from trading.queues import Queue, shard_queue  # noqa: E402
from trading.services.accounts import account_create  # noqa: E402

# (symbol, digits, bid, ask): eight instruments the fake quotes and fills.
MARKET = [
    ("EURUSD", 5, "1.10000", "1.10010"),
    ("GBPUSD", 5, "1.27000", "1.27015"),
    ("AUDUSD", 5, "0.66000", "0.66012"),
    ("NZDUSD", 5, "0.61000", "0.61014"),
    ("USDCAD", 5, "1.36000", "1.36016"),
    ("USDCHF", 5, "0.88000", "0.88014"),
    ("USDJPY", 3, "150.000", "150.012"),
    ("EURJPY", 3, "165.000", "165.020"),
]


def seed_market() -> list[Instrument]:
    with FAKE.broker.lock:
        for symbol, digits, bid, ask in MARKET:
            name = f"{symbol[:3]}_{symbol[3:]}"
            if name not in FAKE.broker.instruments:
                FAKE.broker.instruments[name] = FakeInstrument(
                    name, digits, -2 if digits == 3 else -4, Decimal(bid), Decimal(ask)
                )
            FAKE.broker.prices[name] = (Decimal(bid), Decimal(ask))
            FAKE.broker.tradeable[name] = True
            FAKE.broker.price_times[name] = FAKE.broker.now_str()
    out = []
    for symbol, digits, _, _ in MARKET:
        inst, _ = Instrument.objects.update_or_create(
            symbol=symbol,
            defaults=dict(
                broker_symbol=f"{symbol[:3]}_{symbol[3:]}",
                base_currency=symbol[:3],
                quote_currency=symbol[3:],
                digits=digits,
                pip_location=-2 if digits == 3 else -4,
                spread_points=10,
                always_open=True,
            ),
        )
        out.append(inst)
    return out


def seed_bars(instruments: list[Instrument], last_closed_open: datetime, count: int = 60) -> None:
    """The bench's crossover bars (bar_close.py), for exactly these instruments."""
    Bar.objects.all().delete()
    rows = []
    for inst in instruments:
        price = 150000 if inst.digits == 3 else 110000
        for i in range(count):
            o, c = (price, price - 5) if i < count - 1 else (price, price + 200)
            rows.append(
                Bar(
                    instrument=inst,
                    timeframe=1,
                    time=last_closed_open - timedelta(minutes=count - 1 - i),
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
    cache.clear()


def start_workers(logdir: Path) -> list[subprocess.Popen]:
    env = {**os.environ, "ASIRIKUY_BAR_WAIT_SECONDS": "0", "ASIRIKUY_STRATEGY_SHARDS": "1"}
    commands = {
        "strategy": ["-P", "solo", "-Q", shard_queue(0)],
        "io": ["-P", "threads", "-c", "16", "-Q", Queue.BROKER_IO],
    }
    procs = []
    for name, args in commands.items():
        log = open(logdir / f"slow-{name}.log", "w")  # noqa: SIM115
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "asirikuy_site",
                    "worker",
                    *args,
                    "-n",
                    f"slow-{name}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "-l",
                    "warning",
                ],
                cwd=ROOT.parent,
                env={**env, **({"ASIRIKUY_WORKER_SHARD": "0"} if name == "strategy" else {})},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if len(app.control.ping(timeout=1.0) or []) >= len(procs):
            return procs
    raise SystemExit(f"workers did not come up within 60 s; see the logs in {logdir}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), to tell waiting from working."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sent_in_creation_order(account_id: int) -> bool:
    """Each instrument's orders reached the broker in the order the batch created them."""
    sent = [t["clientExtensions"]["id"] for t in FAKE.transactions(type="MARKET_ORDER")]
    position = {client_id: k for k, client_id in enumerate(sent)}
    for instrument_id in Order.objects.filter(account_id=account_id).values_list("instrument_id", flat=True).distinct():
        ids = list(
            Order.objects.filter(account_id=account_id, instrument_id=instrument_id)
            .order_by("pk")
            .values_list("client_order_id", flat=True)
        )
        order = [position.get(i, -1) for i in ids]
        if -1 in order or order != sorted(order):
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds the broker takes per order")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    owner, _ = get_user_model().objects.get_or_create(username="bench")
    instruments = seed_market()
    common.reset_trading()
    account = account_create(
        owner=owner,
        name="slow broker",
        broker="oanda",
        environment="practice",
        broker_account_id=FAKE.account_id,
        token=FAKE.token,
    )
    for n in range(args.instances):
        StrategyInstance.objects.create(
            instance_id=20_000 + n,
            name=f"slow {n}",
            account=account,
            instrument=instruments[n % len(instruments)],
            strategy_id=MA_CROSSOVER,
            timeframe=1,
            risk_percent=Decimal("0.05"),
            parameters={"FAST_PERIOD": 2, "SLOW_PERIOD": 4, "ATR_AVERAGING_PERIOD": 5},
            max_open_orders=1,
        )
    logdir = Path(os.environ.get("ASIRIKUY_VAR_DIR", "/tmp")) / "bench-logs"
    logdir.mkdir(parents=True, exist_ok=True)
    procs = start_workers(logdir)
    try:
        FAKE.inject("latency", method="POST", path="/orders", times=10 * args.instances, seconds=args.latency)
        start = common.wait_for_minute_start()
        seed_bars(instruments, start.replace(second=0, microsecond=0) - timedelta(minutes=1))
        cpu0 = [cpu_seconds(p.pid) for p in procs]
        t0 = time.perf_counter()  # the bar is available
        app.send_task("trading.tasks.execute_bar_close", args=[account.pk, 1], queue=account.queue_name)
        recorded = None
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if recorded is None and Execution.objects.exclude(status="running").count() >= args.instances:
                recorded = time.perf_counter() - t0
            if recorded is not None and not Order.objects.filter(status__in=["new", "submitting"]).exists():
                break
            time.sleep(0.02)
        done = time.perf_counter() - t0
        cpu = [cpu_seconds(p.pid) - c for p, c in zip(procs, cpu0, strict=True)]
        orders = Order.objects.count()
        filled = Order.objects.filter(status="filled").count()
        serial = orders * args.latency
        print(
            f"\n[slow broker] {args.instances} instances on one OANDA account, {len(instruments)} instruments, "
            f"{args.latency * 1000:.0f} ms per order"
        )
        print(f"  bar available → executions recorded: {recorded if recorded is not None else float('nan'):.3f} s")
        print(f"  bar available → every order filled and recorded: {done:.3f} s  ({filled}/{orders} filled)")
        print(
            f"  serial sending would take {orders} × {args.latency * 1000:.0f} ms = {serial:.1f} s; "
            f"ratio serial / measured: {serial / done:.2f}x"
        )
        per_instrument = -(-orders // len(instruments)) * args.latency
        print(
            f"  floor with one instrument at a time per instrument: {per_instrument:.1f} s "
            f"(measured / floor: {done / per_instrument:.2f}x)"
        )
        print(f"  CPU used meanwhile: strategy worker {cpu[0]:.2f} s, broker_io worker {cpu[1]:.2f} s")
        print(f"  each instrument's orders sent in creation order: {sent_in_creation_order(account.pk)}")
        statuses = {
            s: Order.objects.filter(status=s).count() for s in Order.objects.values_list("status", flat=True).distinct()
        }
        runs = {
            s: Execution.objects.filter(status=s).count()
            for s in Execution.objects.values_list("status", flat=True).distinct()
        }
        print(f"  orders {statuses}; executions {runs}")
        spans = (
            Order.objects.values("instrument__symbol")
            .annotate(first=Min("submitted_at"), last=Max("updated_at"))
            .order_by("first")
        )
        t_first = min(row["first"] for row in spans)
        print(
            "  per instrument, seconds after the first send: "
            + ", ".join(
                f"{row['instrument__symbol']} {(row['first'] - t_first).total_seconds():.2f}–"
                f"{(row['last'] - t_first).total_seconds():.2f}"
                for row in spans
            )
        )
        seen: dict[str, int] = {}
        for request in FAKE.requests:
            key = f"{request.method} {re.sub(r'/v3/accounts/[^/]+', '', request.path).split('?')[0]}"
            key = re.sub(r"/\d+|/@[^/]+", "/<id>", key)
            seen[key] = seen.get(key, 0) + 1
        print("  requests the broker saw: " + ", ".join(f"{k} ×{v}" for k, v in sorted(seen.items())))
        for reason in Order.objects.exclude(reject_reason="").values_list("reject_reason", flat=True).distinct()[:3]:
            print(f"  reject reason: {reason}")
        for error in Execution.objects.exclude(error="").values_list("error", flat=True).distinct()[:3]:
            print(f"  execution error: {error[:200]}")
    finally:
        common.stop_workers(procs)
        FAKE.stop()


if __name__ == "__main__":
    main()
