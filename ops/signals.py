"""Celery signal handlers: heartbeats of workers and beat, log context per task, and task-level metrics.

All of it hangs on Celery's own signals, so no task or service module carries ops code:
- ``worker_ready`` / ``worker_shutdown``: the worker's heartbeat thread (role, shard, queues consumed);
- ``beat_init``: beat's heartbeat thread;
- ``before_task_publish``: the sender's log context travels in the message headers;
- ``task_prerun`` / ``task_postrun``: the task's ids (from its arguments and the sender's context) become the
  log context; a finished bar close observes its latency; a finished backtest counts its bars.
"""

from __future__ import annotations

import inspect
import logging
import os
import threading
import time
from datetime import UTC, datetime
from typing import Any

from celery import signals

from ops.logs import log_context, log_context_replace, log_context_reset

logger = logging.getLogger(__name__)
HEADER = "asirikuy_log"
BAR_CLOSE_TASK = "trading.tasks.execute_bar_close"
# Task arguments that become log context fields (argument name → field).
ID_ARGUMENTS = {
    "account_id": "account",
    "instance_id": "instance",
    "order_id": "order",
    "timeframe": "timeframe",
    "bar_time": "bar",
}
BACKTEST_TASKS = {"backtests.run": ("run", "run_id"), "backtests.optimization_pass": ("optimization", "pass_id")}

_started: dict[str, tuple[float, datetime, Any]] = {}
_lock = threading.Lock()
_signatures: dict[str, inspect.Signature | None] = {}


def connect() -> None:
    signals.worker_ready.connect(_worker_ready, dispatch_uid="ops.worker_ready", weak=False)
    signals.worker_shutdown.connect(_worker_shutdown, dispatch_uid="ops.worker_shutdown", weak=False)
    signals.beat_init.connect(_beat_init, dispatch_uid="ops.beat_init", weak=False)
    signals.before_task_publish.connect(_before_publish, dispatch_uid="ops.before_publish", weak=False)
    signals.task_prerun.connect(_task_prerun, dispatch_uid="ops.task_prerun", weak=False)
    signals.task_postrun.connect(_task_postrun, dispatch_uid="ops.task_postrun", weak=False)


# --- heartbeats ---------------------------------------------------------------------------------------
_worker_key: str | None = None


def _worker_ready(sender: Any = None, **_: Any) -> None:
    from ops.health.heartbeat import heartbeat_start

    global _worker_key
    shard = os.environ.get("ASIRIKUY_WORKER_SHARD") or None
    consumer = sender

    def queues() -> list[str]:
        try:
            return sorted(q.name for q in list(consumer.task_consumer.queues))
        except AttributeError:
            return []

    _worker_key = getattr(sender, "hostname", None) or None
    thread = heartbeat_start(
        role="strategy" if shard is not None else "worker",
        key=_worker_key,
        info={"shard": int(shard) if shard is not None else None},
        info_fn=lambda: {"queues": queues()},  # account queues are added while the worker runs
    )
    _worker_key = thread.key


def _worker_shutdown(**_: Any) -> None:
    from ops.health.heartbeat import heartbeat_stop

    if _worker_key is not None:
        heartbeat_stop(_worker_key)


def _beat_init(**_: Any) -> None:
    from ops.health.heartbeat import heartbeat_start

    heartbeat_start(role="beat")


# --- log context ----------------------------------------------------------------------------------------
def _before_publish(headers: dict[str, Any] | None = None, **_: Any) -> None:
    context = log_context()
    if headers is not None and context:
        headers[HEADER] = {k: v for k, v in context.items() if k != "task"}


def _arguments(task: Any, args: Any, kwargs: Any) -> dict[str, Any]:
    name = getattr(task, "name", "")
    if name not in _signatures:
        try:
            _signatures[name] = inspect.signature(task.run)
        except (TypeError, ValueError):
            _signatures[name] = None
    signature = _signatures[name]
    if signature is None:
        return dict(kwargs or {})
    try:
        return dict(signature.bind_partial(*(args or ()), **(kwargs or {})).arguments)
    except TypeError:
        return dict(kwargs or {})


def _task_prerun(task_id: str | None = None, task: Any = None, args: Any = None, kwargs: Any = None, **_: Any) -> None:
    try:
        arguments = _arguments(task, args, kwargs)
        inherited = getattr(getattr(task, "request", None), HEADER, None) or {}
        context: dict[str, Any] = {**inherited, "task": getattr(task, "name", "")}
        context.setdefault("run", task_id)
        for argument, field in ID_ARGUMENTS.items():
            if arguments.get(argument) is not None:
                context[field] = arguments[argument]
        now = datetime.now(UTC)
        if getattr(task, "name", "") == BAR_CLOSE_TASK and "bar" not in context and "timeframe" in context:
            from trading.services.bar_clock import last_closed_bar_open

            context["bar"] = last_closed_bar_open(now, int(context["timeframe"])).isoformat()
        token = log_context_replace(context)
        if task_id:
            with _lock:
                _started[task_id] = (time.perf_counter(), now, token)
    except Exception:  # context is a convenience: a task never fails because of it
        logger.exception("log context for task %s not set", task_id)


def _task_postrun(
    task_id: str | None = None,
    task: Any = None,
    args: Any = None,
    kwargs: Any = None,
    state: str | None = None,
    **_: Any,
) -> None:
    with _lock:
        started = _started.pop(task_id or "", None)
    try:
        name = getattr(task, "name", "")
        if state == "SUCCESS" and name == BAR_CLOSE_TASK:
            _observe_bar_close(log_context())
        elif state == "SUCCESS" and name in BACKTEST_TASKS:
            _count_backtest(name, _arguments(task, args, kwargs))
    except Exception:  # metrics never fail a task
        logger.exception("metrics for task %s not recorded", task_id)
    finally:
        if started is not None:
            try:
                log_context_reset(started[2])
            except ValueError:  # reset in another context (eager tasks nested in a test): just clear it
                log_context_replace(None)


def _observe_bar_close(context: dict[str, Any]) -> None:
    from ops.metrics.registry import BAR_CLOSE_LATENCY
    from trading.models import Timeframe
    from trading.services.bar_clock import bar_close_time

    timeframe = int(context["timeframe"])
    bar = context["bar"]
    bar_open = bar if isinstance(bar, datetime) else datetime.fromisoformat(str(bar))
    latency = (datetime.now(UTC) - bar_close_time(bar_open, timeframe)).total_seconds()
    label = Timeframe(timeframe).label if timeframe in Timeframe.values else str(timeframe)
    BAR_CLOSE_LATENCY.labels(str(context["account"]), label).observe(max(latency, 0.0))


def _count_backtest(name: str, arguments: dict[str, Any]) -> None:
    from backtests.models import BacktestRun, OptimizationPass
    from ops.metrics.registry import BACKTEST_BARS, BACKTEST_SECONDS, BACKTESTS

    kind, argument = BACKTEST_TASKS[name]
    model = BacktestRun if kind == "run" else OptimizationPass
    pk = arguments.get(argument)
    if pk is None:
        return
    row = model.objects.filter(pk=pk).values("status", "bars_tested", "duration_seconds").first()
    if row is None:
        return
    BACKTESTS.labels(kind, row["status"]).inc()
    BACKTEST_BARS.labels(kind).inc(row["bars_tested"] or 0)
    BACKTEST_SECONDS.labels(kind).inc(row["duration_seconds"] or 0.0)
