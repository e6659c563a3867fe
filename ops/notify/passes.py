"""The notifier and watchdog pass (a beat job every OPS_PASS_SECONDS on the default queue).

One pass: read what changed in the trading tables since the cursors, observe the processes, queues, price
streams, unknown orders and drawdowns, store the new events, write each channel's messages (bursts grouped),
commit, then hand each channel with something due to its own send task. Nothing here runs inside a bar
close, and a pass that is still running makes the next one a no-op.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from ops.health.heartbeat import heartbeat_record, heartbeats, heartbeats_forget
from ops.models import Event, Notification, OpsState
from ops.notify.fanout import notifications_fanout
from ops.notify.record import NewEvent, conditions_apply, events_store
from ops.notify.send import channels_due
from ops.notify.sources import ORDERS, SOURCES, Outbox
from ops.notify.summary import daily_summary_events
from ops.watchdog.markets import (
    drawdown_checks,
    high_water_marks,
    stream_checks,
    stream_statuses,
    unknown_order_checks,
)
from ops.watchdog.processes import process_checks
from ops.watchdog.queues import as_history, backlog_checks, queue_depths, queue_names
from trading.models import BrokerAccount

logger = logging.getLogger(__name__)
LOCK_KEY = "asirikuy:ops-pass"
LOCK_SECONDS = 120
WATCHDOG_KEY = "watchdog"
KEEP = timedelta(days=30)
PRUNE_EVERY = timedelta(hours=1)
FORGETTABLE = ("process:other:", "queue:", "stream:", "unknown:", "drawdown:")


@dataclass
class PassResult:
    events: int = 0
    messages: dict[int, int] = field(default_factory=dict)
    channels_due: list[int] = field(default_factory=list)
    skipped: str = ""


def _observe(now: datetime) -> dict[str, Any]:
    """Reads outside the database transaction: heartbeats and queues (Redis or files), price streams."""
    seen: dict[str, Any] = {"beats": [], "depths": {}, "streams": {}}
    try:
        seen["beats"] = heartbeats()
    except Exception as e:  # the store is away: the process checks wait for it (readiness shows it)
        logger.warning("heartbeats not read: %s: %s", type(e).__name__, e)
        seen["beats"] = None
    seen["depths"] = queue_depths(queue_names())
    try:
        seen["streams"] = stream_statuses(now)
    except Exception as e:
        logger.warning("price streams not read: %s: %s", type(e).__name__, e)
        seen["streams"] = None
    return seen


def _states(names: list[str]) -> dict[str, Any]:
    rows = {s.name: s.value or None for s in OpsState.objects.select_for_update().filter(name__in=names)}
    missing = [name for name in names if name not in rows]
    if missing:
        OpsState.objects.bulk_create([OpsState(name=name) for name in missing], ignore_conflicts=True)
        rows.update({s.name: s.value or None for s in OpsState.objects.select_for_update().filter(name__in=missing)})
    return rows


def _states_save(states: dict[str, Any]) -> None:
    for name, value in states.items():
        OpsState.objects.filter(name=name).update(value=value, updated_at=timezone.now())


def _with_lock(run: Any) -> Any:
    token = uuid.uuid4().hex
    if not cache.add(LOCK_KEY, token, LOCK_SECONDS):
        return PassResult(skipped="another pass is running")
    try:
        return run()
    finally:
        if cache.get(LOCK_KEY) == token:
            cache.delete(LOCK_KEY)


def ops_pass(*, now: datetime | None = None, enqueue: bool = True) -> PassResult:
    """One pass of the notifier and the watchdog; ``enqueue`` hands due channels to their send tasks."""
    now = now or timezone.now()
    return _with_lock(lambda: _pass(now, enqueue))


def _pass(now: datetime, enqueue: bool) -> PassResult:
    seen = _observe(now)
    out = Outbox()
    with transaction.atomic():
        names = [tail.name for tail, _ in SOURCES] + ["queues", "hwm", "maintenance"]
        states = _states(names)
        open_orders: list[dict[str, Any]] = []
        for tail, handler in SOURCES:
            states[tail.name], still_open = tail.read(states[tail.name], now, functools.partial(_found, handler, out))
            if tail is ORDERS:
                open_orders = still_open
        accounts = list(BrokerAccount.objects.filter(enabled=True).order_by("pk"))
        checks = []
        if seen["beats"] is not None:
            checks += process_checks(seen["beats"], now)
        queue_checks, states["queues"] = backlog_checks(seen["depths"], as_history(states["queues"]), now)
        checks += queue_checks
        checks += stream_checks(seen["streams"] or {})
        checks += unknown_order_checks(open_orders, {a.pk: a.name for a in accounts}, now)
        states["hwm"] = high_water_marks(accounts, states["hwm"] or {})
        checks += drawdown_checks(accounts, states["hwm"])
        unread = {
            "process:other:": seen["beats"] is None,
            "queue:": not seen["depths"],
            "stream:": seen["streams"] is None,
        }
        forget = tuple(p for p in FORGETTABLE if not unread.get(p))
        out.events += conditions_apply(checks, now, forget_missing_prefixes=forget)
        result = _publish(out.events, now)
        states["maintenance"] = _maintain(states["maintenance"] or {}, now)
        _states_save(states)
        transaction.on_commit(out.counts_apply)
    heartbeat_record(key=WATCHDOG_KEY, role="watchdog", info={"events": result.events}, now=now)
    return _enqueue(result, now, enqueue)


def _found(handler: Callable[[dict[str, Any], Outbox], None], out: Outbox, row: dict[str, Any]) -> None:
    handler(row, out)


def _publish(found: list[NewEvent], now: datetime) -> PassResult:
    stored = events_store(found, now)
    return PassResult(events=len(stored), messages=notifications_fanout(stored, now))


def _enqueue(result: PassResult, now: datetime, enqueue: bool) -> PassResult:
    result.channels_due = channels_due(now)
    if enqueue:
        from ops.tasks import notifications_send_task

        for channel_id in result.channels_due:
            notifications_send_task.apply_async(args=(channel_id,), expires=300)
    return result


def _maintain(state: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Once an hour: forget old events, messages and processes gone for a day."""
    last = state.get("pruned_at")
    if last and now - datetime.fromisoformat(last) < PRUNE_EVERY:
        return state
    Event.objects.filter(created_at__lt=now - KEEP).delete()
    Notification.objects.filter(created_at__lt=now - KEEP).delete()
    try:
        heartbeats_forget(now)
    except Exception as e:
        logger.warning("old heartbeats not forgotten: %s", e)
    return {**state, "pruned_at": now.isoformat()}


def ops_daily_summary(*, now: datetime | None = None, enqueue: bool = True) -> PassResult:
    """The daily summary of every account, sent like any other event (once per FX day)."""
    now = now or timezone.now()
    with transaction.atomic():  # its own event keys: no need to wait for a running pass
        result = _publish(daily_summary_events(now), now)
    return _enqueue(result, now, enqueue)
