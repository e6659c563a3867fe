"""Queue depths (any Celery transport, read through kombu) and queues that back up.

A queue is backing up when it has not been empty for OPS_QUEUE_BACKLOG_SECONDS and holds at least as many
messages as it did then: nobody is taking its work (a dead shard leaves its bar-close task waiting there).
The backtests queue is only measured: hours of queued optimisation passes are normal.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.conf import settings

from ops.events import EventKind, NewEvent, Severity
from ops.notify.record import Check
from trading.models import BrokerAccount
from trading.queues import ACCOUNT_QUEUE_PREFIX, Queue, account_queue

logger = logging.getLogger(__name__)
MEASURED_ONLY = {Queue.BACKTESTS}


def queue_names() -> list[str]:
    return [q.value for q in Queue] + [account_queue(pk) for pk in BrokerAccount.objects.values_list("pk", flat=True)]


def queue_depths(names: list[str]) -> dict[str, int]:
    """Messages waiting in each queue; empty when the broker cannot be reached (the check is skipped)."""
    from asirikuy_site.celery import app

    depths: dict[str, int] = {}
    try:
        with app.connection_for_read() as connection:
            channel: Any = connection.default_channel
            for name in names:
                try:
                    depths[name] = int(channel.queue_declare(queue=name, passive=True).message_count)
                except Exception:  # a queue nobody declared yet holds nothing
                    depths[name] = 0
    except Exception as e:
        logger.warning("queue depths not read: %s: %s", type(e).__name__, e)
        return {}
    return depths


def backlog_checks(
    depths: dict[str, int], history: dict[str, list[list[float]]], now: datetime
) -> tuple[list[Check], dict[str, list[list[float]]]]:
    """Checks of the queues that matter, and the depth history to keep for the next pass."""
    window = float(settings.OPS_QUEUE_BACKLOG_SECONDS)
    at = now.timestamp()
    kept: dict[str, list[list[float]]] = {}
    checks: list[Check] = []
    for queue, depth in depths.items():
        samples = [s for s in history.get(queue, []) if s[0] >= at - 2 * window] + [[at, float(depth)]]
        kept[queue] = samples
        if queue in MEASURED_ONLY:
            continue
        old = [s for s in samples if s[0] <= at - window]
        since = [s for s in samples if old and s[0] >= old[-1][0]]
        bad = bool(old) and depth > 0 and all(d > 0 for _, d in since) and depth >= old[-1][1]
        checks.append(_check(queue, depth, bad, int(at - old[-1][0]) if old else 0))
    return checks, kept


def _check(queue: str, depth: int, bad: bool, waited: int) -> Check:
    account_ids = _accounts_of(queue)
    detail = f"{depth} waiting, none taken for {waited} s" if bad else f"{depth} waiting"
    return Check(
        key=f"queue:{queue}",
        kind=EventKind.QUEUE_BACKLOG,
        bad=bad,
        detail=detail,
        bad_event=NewEvent(
            key="",
            kind=EventKind.QUEUE_BACKLOG,
            severity=Severity.ERROR,
            title=f"Queue {queue} backing up: {detail}",
            body="Its worker is down, stuck or too slow. See /ops/ for the processes and their last heartbeat.",
            account_ids=account_ids,
        ),
        good_event=NewEvent(
            key="",
            kind=EventKind.QUEUE_BACKLOG,
            severity=Severity.SUCCESS,
            title=f"Queue {queue} moving again: {detail}",
            account_ids=account_ids,
        ),
    )


def _accounts_of(queue: str) -> list[int] | None:
    if queue.startswith(ACCOUNT_QUEUE_PREFIX):
        try:
            return [int(queue[len(ACCOUNT_QUEUE_PREFIX) :])]
        except ValueError:
            return None
    return None


def as_history(value: Any) -> dict[str, list[list[float]]]:
    return value if isinstance(value, dict) else {}
