"""Processes not heard from: beat, each strategy shard, the consumers of the shared queues, any worker seen before.

One condition per process (not per instance or per bar), so a dead shard is announced once, and once more
when it is back. A process that stopped cleanly (its last heartbeat says so) is forgotten, unless it is one
the platform needs (beat, a shard, a shared queue's consumer).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from django.conf import settings

from ops.events import EventKind, NewEvent, Severity
from ops.health.heartbeat import Beat
from ops.notify.record import Check
from trading.models import BrokerAccount
from trading.queues import Queue

NEEDED_QUEUES = (Queue.DEFAULT, Queue.BROKER_IO)
WATCHED_ROLES = {"strategy", "worker", "beat", "price_stream"}
_PROCESS_STARTED = time.monotonic()


def _fresh(beat: Beat, now: datetime) -> bool:
    return not beat.stopped and beat.age(now) <= settings.OPS_HEARTBEAT_STALE_SECONDS


def _starting_up() -> bool:
    """Right after this process started, processes started beside it may not have beaten yet."""
    return time.monotonic() - _PROCESS_STARTED < settings.OPS_HEARTBEAT_STALE_SECONDS


def _check(key: str, label: str, bad: bool, detail: str, account_ids: list[int] | None) -> Check:
    scope: dict[str, Any] = {"account_ids": account_ids}
    return Check(
        key=key,
        kind=EventKind.PROCESS,
        bad=bad,
        detail=detail,
        bad_event=NewEvent(
            key="", kind=EventKind.PROCESS, severity=Severity.ERROR, title=f"{label} down: {detail}", **scope
        ),
        good_event=NewEvent(
            key="", kind=EventKind.PROCESS, severity=Severity.SUCCESS, title=f"{label} back: {detail}", **scope
        ),
    )


def _describe(beats: list[Beat], now: datetime) -> str:
    fresh = [b for b in beats if _fresh(b, now)]
    if fresh:
        return f"{fresh[0].key} heard from {fresh[0].age(now):.0f} s ago"
    if not beats:
        return "never heard from"
    last = beats[0]
    how = "stopped" if last.stopped else "not heard from"
    return f"{last.key} {how} for {last.age(now):.0f} s"


def _needed(beat: Beat, shards: int) -> bool:
    """Covered by a needed check above (any fresh process of its kind will do)."""
    if beat.role == "beat":
        return True
    if beat.role == "strategy":
        return beat.shard is not None and 0 <= beat.shard < shards
    return beat.role == "worker" and any(q in beat.queues for q in NEEDED_QUEUES)


def process_checks(beats: list[Beat], now: datetime) -> list[Check]:
    """One check per needed process and per other worker seen before."""
    checks: list[Check] = []
    startup = _starting_up()

    def needed(key: str, label: str, mine: list[Beat], account_ids: list[int] | None) -> None:
        ok = any(_fresh(b, now) for b in mine)
        if not ok and not mine and startup:
            return  # not judged yet
        checks.append(_check(key, label, not ok, _describe(mine, now), account_ids))

    needed("process:beat", "Celery beat", [b for b in beats if b.role == "beat"], None)
    shards = settings.STRATEGY_SHARDS
    accounts = list(BrokerAccount.objects.filter(enabled=True).values_list("pk", flat=True))
    for shard in range(shards):
        mine = [b for b in beats if b.role == "strategy" and b.shard == shard]
        served = [a for a in accounts if a % shards == shard]
        needed(f"process:shard:{shard}", f"Strategy shard {shard}", mine, served)
    for queue in NEEDED_QUEUES:
        mine = [b for b in beats if b.role == "worker" and queue in b.queues]
        needed(f"process:queue:{queue}", f"The {queue} queue's worker", mine, None)
    for beat in beats:
        if beat.role in WATCHED_ROLES and not _needed(beat, shards) and not beat.stopped:
            checks.append(
                _check(
                    f"process:other:{beat.key}",
                    f"{beat.role} {beat.key}",
                    not _fresh(beat, now),
                    _describe([beat], now),
                    None,
                )
            )
    return checks
