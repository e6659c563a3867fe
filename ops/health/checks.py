"""Readiness: is everything the platform needs to trade unattended up and recent? One result per check.

Database, Redis, migrations applied, beat, each strategy shard, the workers of the shared queues, every
price stream an account relies on, and the watchdog itself (its last pass). Each result has a status
(``ok``, ``warn``: shown but not blocking, ``fail``, ``skip``: does not apply here), an age in seconds when it is
about a heartbeat, and a short detail.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection

from ops.health.heartbeat import Beat, heartbeats
from trading.queues import Queue

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
_migrations_cache: dict[str, Any] = {"at": 0.0, "result": None}
MIGRATIONS_CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str
    detail: str = ""
    age_seconds: float | None = None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if out["age_seconds"] is not None:
            out["age_seconds"] = round(out["age_seconds"], 1)
        return out


def _database() -> CheckResult:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as e:
        return CheckResult("database", FAIL, f"{type(e).__name__}: {e}")
    return CheckResult("database", OK, f"{connection.vendor}, {1000 * (time.perf_counter() - started):.1f} ms")


def _migrations() -> CheckResult:
    now = time.monotonic()
    cached = _migrations_cache["result"]
    if cached is not None and now - _migrations_cache["at"] < MIGRATIONS_CACHE_SECONDS:
        return cached
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as e:
        return CheckResult("migrations", FAIL, f"{type(e).__name__}: {e}")
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5])
        result = CheckResult("migrations", FAIL, f"{len(plan)} not applied ({names}): run manage.py migrate")
    else:
        result = CheckResult("migrations", OK, "all applied")
    _migrations_cache.update(at=now, result=result)
    return result


def _redis() -> CheckResult:
    if not settings.REDIS_URL:
        return CheckResult("redis", SKIP, "embedded mode: no Redis")
    from ops.health.heartbeat import _redis_client

    started = time.perf_counter()
    try:
        _redis_client().ping()
    except Exception as e:
        return CheckResult("redis", FAIL, f"{type(e).__name__}: {e}")
    return CheckResult("redis", OK, f"{1000 * (time.perf_counter() - started):.1f} ms")


def _newest(beats: list[Beat]) -> Beat | None:
    return max(beats, key=lambda b: b.at) if beats else None


def _heartbeat(name: str, beats: list[Beat], now: datetime, *, missing: str = FAIL) -> CheckResult:
    beat = _newest([b for b in beats if not b.stopped]) or _newest(beats)
    if beat is None:
        return CheckResult(name, missing, "never heard from")
    age = beat.age(now)
    if beat.stopped:
        return CheckResult(name, missing, f"{beat.key} stopped", age)
    fresh = age <= settings.OPS_HEARTBEAT_STALE_SECONDS
    return CheckResult(name, OK if fresh else missing, beat.key, age)


def readiness(now: datetime) -> list[CheckResult]:
    """Every check, in a fixed order."""
    results = [_database(), _migrations(), _redis()]
    try:
        beats = heartbeats()
    except Exception as e:
        return [*results, CheckResult("heartbeats", FAIL, f"{type(e).__name__}: {e}")]
    results.append(_heartbeat("beat", [b for b in beats if b.role == "beat"], now))
    for shard in range(settings.STRATEGY_SHARDS):
        mine = [b for b in beats if b.role == "strategy" and b.shard == shard]
        results.append(_heartbeat(f"strategy shard {shard}", mine, now))
    for queue in (Queue.DEFAULT, Queue.BROKER_IO):
        mine = [b for b in beats if b.role == "worker" and queue in b.queues]
        results.append(_heartbeat(f"{queue} worker", mine, now))
    mine = [b for b in beats if b.role == "worker" and Queue.BACKTESTS in b.queues]
    results.append(_heartbeat("backtests worker", mine, now, missing=WARN))
    results += _streams(now)
    watchdog = [b for b in beats if b.role == "watchdog"]
    bound = max(3 * settings.OPS_PASS_SECONDS, settings.OPS_HEARTBEAT_STALE_SECONDS)
    last = _newest(watchdog)
    if last is None:
        results.append(CheckResult("watchdog", FAIL, "no pass yet: beat and the default worker run it"))
    else:
        age = last.age(now)
        results.append(CheckResult("watchdog", OK if age <= bound else FAIL, "last pass", age))
    return results


def _streams(now: datetime) -> list[CheckResult]:
    from ops.watchdog.markets import stream_statuses
    from trading.venues import venue_class

    try:
        statuses = stream_statuses(now)
    except Exception as e:
        return [CheckResult("price streams", FAIL, f"{type(e).__name__}: {e}")]
    out = []
    for (kind, stream), (status, accounts) in statuses.items():
        name = f"{venue_class(kind).label} price stream {stream}"
        detail = f"{status.get('state') or 'not running'}; used by {len(accounts)} account(s)"
        age = status.get("age")
        out.append(
            CheckResult(name, OK if status.get("fresh") else FAIL, detail, float(age) if age is not None else None)
        )
    return out


def overall(results: list[CheckResult]) -> str:
    return FAIL if any(r.status == FAIL for r in results) else OK
