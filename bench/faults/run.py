"""The scenario runner: start the stack, let beat drive real M1 bar closes, aim each fault at one, measure how
long the platform takes to be whole again, then check everything and print the table."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .stack import ROOT, Stack

if TYPE_CHECKING:
    from .checks import Findings
    from .faults import Ctx, FaultRun

HEALTHY_WITHIN = 240.0
STREAM_SILENCE = 4.0  # seconds without a message (the fake's heartbeat is every second): the stream is not well  # seconds: a fault the platform has not recovered from by then fails the run


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__)
    p.add_argument(
        "--short", action="store_true", help="the CI version: 22 instances, one bar close, 3 faults (about a minute)"
    )
    p.add_argument("--paper-accounts", type=int, default=4)
    p.add_argument("--per-paper", type=int, default=40)
    p.add_argument("--oanda-instances", type=int, default=40)
    p.add_argument(
        "--closes", type=int, default=100, help="bar closes to run through (the faults are spread over them)"
    )
    p.add_argument("--faults", default="all", help="comma-separated names from bench/faults/faults.py CATALOG")
    p.add_argument("--repeat", type=int, default=2, help="how many times each fault is injected")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (logs) at the end")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    from .fake import fake_oanda_class

    fake = fake_oanda_class().start(hedging=True, heartbeat_interval=1.0, balance="1000000")
    stack = Stack(strategy_workers=2, fake_url=fake.url)
    os.environ.update(stack.env)
    print(f"[faults] stack in {stack.root} (PostgreSQL :{stack.pg.port}, Redis :{stack.redis.port}, fake {fake.url})")
    try:
        return _run(args, stack, fake)
    finally:
        stack.close(keep=args.keep)
        fake.stop()


def _run(args: argparse.Namespace, stack: Stack, fake: Any) -> int:
    import django

    django.setup()
    from django.core.management import call_command

    from .checks import findings_collect
    from .faults import CATALOG, Ctx
    from .world import Monitor, market_follow, world_seed

    call_command("migrate", verbosity=0)
    if args.short:
        args.paper_accounts, args.per_paper, args.oanda_instances = 2, 8, 6
    world = world_seed(
        fake, paper_accounts=args.paper_accounts, per_paper=args.per_paper, oanda_instances=args.oanda_instances
    )
    stop = threading.Event()
    threading.Thread(target=market_follow, args=(world, stop), daemon=True).start()
    stack.start_processes()
    _wait_ready(stack)
    monitor = Monitor(world)
    monitor.thread.start()
    ctx = Ctx(stack, world)
    started = time.time()
    print(f"[faults] {len(world.instances)} instances on {len(world.paper_accounts) + 1} accounts; ready")
    if args.short:
        runs, first_close = _short(ctx)
    else:
        runs, first_close = _long(ctx, args, CATALOG), _boundary(started)
    if not args.short:  # at least two clean closes after the last fault, and --closes closes in all
        _wait_until(max(_boundary(time.time()) + 120, first_close + args.closes * 60) + 15)
    _healthy_by(ctx, time.time() + HEALTHY_WITHIN)
    stop.set()
    monitor.stop.set()
    end = time.time()
    bars = _bars(first_close, end)
    found = findings_collect(world, bars, monitor.violations)
    return _report(runs, found, stack, bars, end)


def _wait_ready(stack: Stack) -> None:
    deadline = time.monotonic() + 120
    names = [n for n in stack.supervisor.procs if n.startswith(("strategy", "io"))]
    while time.monotonic() < deadline:
        logs = [stack.proc(n).log.read_text(errors="replace") for n in names]
        if all("ready." in text for text in logs) and _web_ok(stack):
            return
        time.sleep(0.5)
    raise SystemExit(f"the processes did not start; logs in {stack.root / 'log'}")


def _web_ok(stack: Stack) -> bool:
    if not stack.web:
        return True
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{stack.web_port}/admin/login/", timeout=3) as response:
            return response.status == 200
    except OSError:
        return False


def _wait_until(at: float) -> None:
    while (left := at - time.time()) > 0:
        time.sleep(min(left, 0.5))


def _boundary(t: float) -> float:
    return (int(t) // 60 + 1) * 60


def _bars(first_close: float, end: float) -> list[datetime]:
    """Bars that closed from ``first_close`` on (the stack was ready) and long enough before the end to be settled."""
    out = []
    b = first_close
    while b <= end - 15:
        out.append(datetime.fromtimestamp(b, tz=UTC) - timedelta(minutes=1))
        b += 60
    return out


def healthy(ctx: Ctx) -> bool:
    """Whole again: every process up, the web answering, the stream streaming, nothing running or in flight,
    and the newest bar close recorded for every instance."""
    from django.db import close_old_connections, connection

    from trading.models import Execution
    from trading.venues.oanda.prices import stream_health

    from .world import in_flight_orders, running_executions

    stack, world = ctx.stack, ctx.world
    if not all(p.alive() for p in stack.supervisor.procs.values()) or not _web_ok(stack):
        return False
    try:
        close_old_connections()
        health = stream_health("practice")
        heard = health.get("last_message_at")
        if health.get("state") != "streaming" or not heard:
            return False
        if (datetime.now(tz=UTC) - datetime.fromisoformat(heard)).total_seconds() > STREAM_SILENCE:
            return False  # a stalled stream still says "streaming" until it notices
        if running_executions() or in_flight_orders():
            return False
        newest = datetime.fromtimestamp(_boundary(time.time() - 12) - 60, tz=UTC) - timedelta(minutes=1)
        return Execution.objects.filter(bar_time=newest).count() >= len(world.instances)
    except Exception:
        connection.close()
        return False


def _healthy_by(ctx: Ctx, deadline: float) -> float | None:
    while time.time() < deadline:
        if healthy(ctx):
            return time.time()
        time.sleep(0.5)
    return None


def _measure(ctx: Ctx, run: FaultRun, close: float) -> None:
    """Recovery: from the fault's end, or from the bar close it was aimed at when that came later (a broker
    fault set up before the close strikes at it: health is looked at from 3 s after the close, once the bar's
    batches have started), until ``healthy``."""
    origin = max(run.end, close)
    _wait_until(origin + (3 if close > run.end else 0))
    at = _healthy_by(ctx, origin + HEALTHY_WITHIN)
    run.recovery = (at - origin) if at is not None else None
    if run.probe is not None:  # an injected fault strikes when the fake uses it up
        run.hit = run.probe.times == 0
    took = f"{run.recovery:.1f} s" if run.recovery is not None else f"NOT within {HEALTHY_WITHIN:.0f} s"
    print(f"[faults] {run.name}: {run.note}; hit: {run.hit}; recovered in {took}", flush=True)


def _long(ctx: Ctx, args: argparse.Namespace, catalog: dict) -> list[FaultRun]:
    names = list(catalog) if args.faults == "all" else args.faults.split(",")
    first = _boundary(time.time()) + 120  # two clean closes first
    gap = max((args.closes - 6) // max(len(names) * args.repeat, 1), 2)  # spread over the closes
    runs = []
    b = first
    for name in names * args.repeat:
        run = catalog[name](ctx, b)
        _measure(ctx, run, b)
        runs.append(run)
        b = max(b + gap * 60, _boundary(time.time()) + 60)
    return runs


def _short(ctx: Ctx) -> tuple[list[FaultRun], float]:
    """One bar close, driven now (as beat would send it) with a worker killed mid-batch; then Redis and PostgreSQL
    restarted under the running processes."""
    from asirikuy_site.celery import app
    from trading.queues import account_queue

    from .faults import FaultRun, _kill_pid, _running_holder, pg_restart, poll, redis_restart, slow_account_sync

    world = ctx.world
    if 60 - time.time() % 60 < 28:  # not enough of this bar left to recover inside it: beat's next close
        b = _boundary(time.time())
        _wait_until(b - 3)
        slow_account_sync(ctx)
        _wait_until(b)
    else:  # this bar, driven now as beat sends it
        b = time.time()
        slow_account_sync(ctx)
        for account_id in [*world.paper_accounts, world.oanda_account]:
            app.send_task("trading.tasks.execute_bar_close", args=[account_id, 1], queue=account_queue(account_id))
    pid = poll(lambda: _running_holder(b, [world.oanda_account]), timeout=20)
    start = time.time()
    note = _kill_pid(ctx, pid) if pid else "no OANDA batch caught running"
    kill = FaultRun("SIGKILL strategy worker mid-batch (OANDA)", start, start, bool(pid), note)
    ctx.fake.clear_faults()
    _measure(ctx, kill, b)
    at = time.time() + 2
    restart = redis_restart(ctx, at)
    _measure(ctx, restart, at)
    at = time.time() + 1
    pg = pg_restart(ctx, at)
    _measure(ctx, pg, at)
    return [kill, restart, pg], int(b) // 60 * 60  # the bar driven here is the first one checked


def _within(lo: float, hi: float, items: list[tuple[float, str]]) -> int:
    return sum(1 for at, _ in items if lo <= at < hi)


def _report(runs: list[FaultRun], found: Findings, stack: Stack, bars: list[datetime], end: float) -> int:
    windows = [(r, r.start, runs[i + 1].start if i + 1 < len(runs) else end + 1) for i, r in enumerate(runs)]
    print("\n| fault | hit | duplicates | lost | stuck | over limit | missed (recorded) | recovery s | restarts |")
    print("|---|---|---|---|---|---|---|---|---|")
    rows = []
    for run, lo, hi in windows:
        restarts = {p.name: sum(1 for t in p.restarted_at if lo <= t < hi) for p in stack.supervisor.procs.values()}
        restarts = {k: v for k, v in restarts.items() if v}
        rec = f"{run.recovery:.1f}" if run.recovery is not None else f">{HEALTHY_WITHIN:.0f}"
        row = {"fault": run.name, "hit": run.hit, "duplicates": _within(lo, hi, found.duplicates), "lost": _within(lo, hi, found.lost),
               "stuck": _within(lo, hi, found.stuck), "over_limit": _within(lo, hi, found.over_limit), "missed": _within(lo, hi, found.missed),
               "recovery": run.recovery, "restarts": restarts}  # fmt: skip
        rows.append(row)
        print(f"| {run.name} | {'yes' if run.hit else 'no'} | {row['duplicates']} | {row['lost']} | {row['stuck']} "
              f"| {row['over_limit']} | {row['missed']} | {rec} | {restarts or '-'} |")  # fmt: skip
    print(f"| whole run ({len(bars)} bar closes) | | {len(found.duplicates)} | {len(found.lost)} | {len(found.stuck)} "
          f"| {len(found.over_limit)} | {len(found.missed)} | | |")  # fmt: skip
    print(f"\ntotals: {found.totals}; discrepancies: {found.discrepancies or 'none'}")
    for label, items in (("duplicates", found.duplicates), ("lost", found.lost), ("stuck", found.stuck),
                         ("over limit", found.over_limit)):  # fmt: skip
        for _, text in items[:10]:
            print(f"  {label}: {text}")
    ok = found.ok() and all(r.recovery is not None for r in runs)
    summary = {"ok": ok, "bars": len(bars), "instances": None, "rows": rows, "totals": found.totals,
               "duplicates": len(found.duplicates), "lost": len(found.lost), "stuck": len(found.stuck),
               "over_limit": len(found.over_limit), "missed": len(found.missed),
               "discrepancies": found.discrepancies}  # fmt: skip
    print("FAULTS-SUMMARY " + json.dumps(summary, default=str))
    (Path(stack.root) / "summary.json").write_text(json.dumps(summary, default=str, indent=1))
    return 0 if ok else 1
