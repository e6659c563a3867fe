"""The faults, each aimed at one bar close (the minute boundary ``b``): what is broken, when, and when it ends.

Kills use SIGKILL (no clean-up of any kind); "mid-batch" and "after commit" are found by watching the
database for the moment (a batch's rows RUNNING; its rows final while its orders are still unsent), so the
kill lands where it should; the holder of a running batch is read from its execution rows (``host:pid``).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import close_old_connections, connection

from trading.models import Execution, Order, OrderStatus

from .stack import Stack
from .world import World


@dataclass
class FaultRun:
    name: str
    start: float
    end: float
    hit: bool = True  # the fault struck where it was aimed (a kill found its moment)
    note: str = ""
    recovery: float | None = None  # seconds from the fault's end (or the bar close) until the platform was whole again
    probe: Any = None  # an injected broker/stream fault: it struck when the fake used it up


@dataclass
class Ctx:
    stack: Stack
    world: World

    @property
    def fake(self) -> Any:
        return self.world.fake


def wait_until(at: float) -> None:
    while (left := at - time.time()) > 0:
        time.sleep(min(left, 0.5))


def poll(predicate: Callable[[], Any], timeout: float, interval: float = 0.005) -> Any:
    """``predicate()`` until truthy (its value) or ``timeout`` (None); database errors count as not yet."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except Exception:
            connection.close()
            value = None
        if value:
            return value
        time.sleep(interval)
    return None


def _bar(b: float) -> datetime:
    """The bar whose close is the minute boundary at or before ``b`` (the newest closed bar at ``b``)."""
    return datetime.fromtimestamp(int(b) // 60 * 60, tz=UTC) - timedelta(minutes=1)


def _running_holder(b: float, accounts: list[int]) -> int | None:
    close_old_connections()
    holder = (
        Execution.objects.filter(status="running", bar_time=_bar(b), instance__account_id__in=accounts)
        .exclude(holder="")
        .values_list("holder", flat=True)
        .first()
    )
    return int(holder.rpartition(":")[2]) if holder and holder.rpartition(":")[2].isdigit() else None


def slow_account_sync(ctx: Ctx) -> None:
    """The next account syncs of the OANDA account take 4 s (its batch stays RUNNING long enough to be hit)."""
    ctx.fake.inject("latency", method="GET", path="/summary$", seconds=4.0, times=3)


def _kill_pid(ctx: Ctx, pid: int) -> str:
    proc = ctx.stack.supervisor.by_pid(pid)
    if proc is None:
        return f"pid {pid} is not ours"
    proc.kill(signal.SIGKILL)
    return f"SIGKILL {proc.name} (pid {pid})"


def kill_strategy_mid_batch_paper(ctx: Ctx, b: float) -> FaultRun:
    wait_until(b - 1)
    pid = poll(lambda: _running_holder(b, ctx.world.paper_accounts), timeout=40)
    start = time.time()
    note = _kill_pid(ctx, pid) if pid else "no paper batch caught running"
    return FaultRun("SIGKILL strategy worker mid-batch (paper)", start, start, bool(pid), note)


def kill_strategy_mid_batch_oanda(ctx: Ctx, b: float) -> FaultRun:
    wait_until(b - 5)
    slow_account_sync(ctx)
    pid = poll(lambda: _running_holder(b, [ctx.world.oanda_account]), timeout=45)
    start = time.time()
    note = _kill_pid(ctx, pid) if pid else "no OANDA batch caught running"
    ctx.fake.clear_faults()
    return FaultRun("SIGKILL strategy worker mid-batch (OANDA)", start, start, bool(pid), note)


def kill_strategy_after_commit(ctx: Ctx, b: float) -> FaultRun:
    """Kill the worker of a paper batch that has committed (rows final) while its orders are being filled."""
    wait_until(b - 1)
    bar = _bar(b)

    def committed_with_orders() -> int | None:
        close_old_connections()
        for account_id in ctx.world.paper_accounts:
            rows = Execution.objects.filter(bar_time=bar, instance__account_id=account_id)
            if rows.exists() and not rows.filter(status="running").exists():
                if Order.objects.filter(account_id=account_id, status=OrderStatus.NEW, bar_time=bar).exists():
                    holder = rows.values_list("holder", flat=True).first() or ""
                    return int(holder.rpartition(":")[2]) if holder.rpartition(":")[2].isdigit() else None
        return None

    pid = poll(committed_with_orders, timeout=40, interval=0.002)
    hit = bool(pid)
    if not pid:  # the fills were faster than our look: kill a worker that just committed anyway
        holder = Execution.objects.filter(bar_time=bar).exclude(holder="").values_list("holder", flat=True).first()
        pid = int(holder.rpartition(":")[2]) if holder else None
    start = time.time()
    note = _kill_pid(ctx, pid) if pid else "no committed batch found"
    return FaultRun("SIGKILL strategy worker after commit", start, start, hit, note)


def _kill_io_when(ctx: Ctx, b: float, name: str, status: str) -> FaultRun:
    wait_until(b - 5)
    ctx.fake.inject("latency", method="POST", path="/orders", seconds=2.0, times=3)  # orders go out slowly
    bar = _bar(b)
    found = poll(
        lambda: Order.objects.filter(account_id=ctx.world.oanda_account, bar_time=bar, status=status).exists(),
        timeout=50,
    )
    start = time.time()
    ctx.stack.proc("io").kill(signal.SIGKILL)
    ctx.fake.clear_faults()
    return FaultRun(name, start, start, bool(found), "SIGKILL io" + ("" if found else f" (no {status} order seen)"))


def kill_io_mid_dispatch(ctx: Ctx, b: float) -> FaultRun:
    return _kill_io_when(ctx, b, "SIGKILL I/O worker mid-dispatch", OrderStatus.SUBMITTING)


def kill_io_after_commit(ctx: Ctx, b: float) -> FaultRun:
    return _kill_io_when(ctx, b, "SIGKILL I/O worker after commit", OrderStatus.NEW)


def _kill_named(ctx: Ctx, b: float, name: str, before: float, label: str) -> FaultRun:
    wait_until(b - before)
    start = time.time()
    ctx.stack.proc(name).kill(signal.SIGKILL)
    return FaultRun(label, start, start, True, f"SIGKILL {name}")


def kill_beat(ctx: Ctx, b: float) -> FaultRun:
    return _kill_named(ctx, b, "beat", 3, "SIGKILL beat before a bar close")


def kill_web(ctx: Ctx, b: float) -> FaultRun:
    return _kill_named(ctx, b, "web", 10, "SIGKILL web")


def kill_stream(ctx: Ctx, b: float) -> FaultRun:
    return _kill_named(ctx, b, "stream", 5, "SIGKILL price stream")


def redis_restart(ctx: Ctx, b: float) -> FaultRun:
    wait_until(b - 2)
    start = time.time()
    ctx.stack.redis.stop()
    time.sleep(5)
    ctx.stack.redis.start()
    return FaultRun("Redis restart (5 s down across the close)", start, time.time())


def pg_restart(ctx: Ctx, b: float) -> FaultRun:
    wait_until(b - 1)
    start = time.time()
    ctx.stack.pg.restart()
    connection.close()
    return FaultRun("PostgreSQL restart", start, time.time())


def pg_outage(ctx: Ctx, b: float) -> FaultRun:
    wait_until(b - 2)
    start = time.time()
    ctx.stack.pg.stop()
    connection.close()
    time.sleep(30)
    ctx.stack.pg.start()
    return FaultRun("PostgreSQL outage 30 s", start, time.time())


def _broker(ctx: Ctx, b: float, label: str, kind: str, **kw: Any) -> FaultRun:
    wait_until(b - 5)
    start = time.time()
    probe = ctx.fake.inject(kind, method="POST", path="/orders", **kw)
    return FaultRun(label, start, start, True, f"{kind} {kw}", probe=probe)


def broker_5xx(ctx: Ctx, b: float) -> FaultRun:
    return _broker(ctx, b, "broker 503 on orders (x4)", "status", status=503, times=4)


def broker_drop(ctx: Ctx, b: float) -> FaultRun:
    return _broker(ctx, b, "broker accepts, connection dropped (x2)", "drop_after", times=2)


def broker_late(ctx: Ctx, b: float) -> FaultRun:
    # Accepted only after the client's 15 s read timeout: the answer is lost and the order lands later.
    return _broker(ctx, b, "broker latency 18 s (accepts after the client gave up)", "latency", seconds=18.0, times=1)


def stream_stall(ctx: Ctx, b: float) -> FaultRun:
    wait_until(b - 5)
    start = time.time()
    probe = ctx.fake.inject_stream("stall", after=1, seconds=30.0)
    ctx.stack.proc("stream").kill(signal.SIGTERM)  # it reconnects (restarted) into the stalled stream
    return FaultRun("price stream stall (30 s silent)", start, start, True, "stall on the next connection", probe=probe)


CATALOG: dict[str, Callable[[Ctx, float], FaultRun]] = {
    "kill-strategy-mid-batch-paper": kill_strategy_mid_batch_paper,
    "kill-strategy-mid-batch-oanda": kill_strategy_mid_batch_oanda,
    "kill-strategy-after-commit": kill_strategy_after_commit,
    "kill-io-mid-dispatch": kill_io_mid_dispatch,
    "kill-io-after-commit": kill_io_after_commit,
    "kill-beat": kill_beat,
    "kill-web": kill_web,
    "kill-stream": kill_stream,
    "redis-restart": redis_restart,
    "pg-restart": pg_restart,
    "pg-outage-30s": pg_outage,
    "broker-5xx": broker_5xx,
    "broker-drop": broker_drop,
    "broker-late-accept": broker_late,
    "stream-stall": stream_stall,
}
