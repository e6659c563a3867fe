"""Heartbeats: every long-running process says it is alive every few seconds (Redis, else the database).

A process is named by its role and a stable name: ``strategy`` workers carry their shard, ``worker`` the
queues they consume, ``beat``, ``price_stream``, ``web``. The readiness checks, the watchdog and the
metrics read them all back with one call. Beats come from a daemon thread, so a long strategy run in a
solo worker does not make its process look dead; a process that hangs for good is found by its queue
backing up instead.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)
REDIS_KEY = "asirikuy:heartbeats"
FORGET_AFTER = timedelta(days=1)

_redis: Any = None
_redis_lock = threading.Lock()


@dataclass(frozen=True)
class Beat:
    """One process's last heartbeat."""

    key: str
    role: str
    at: datetime
    info: dict[str, Any] = field(default_factory=dict)

    def age(self, now: datetime) -> float:
        return max(0.0, (now - self.at).total_seconds())

    @property
    def shard(self) -> int | None:
        shard = self.info.get("shard")
        return int(shard) if shard is not None else None

    @property
    def queues(self) -> list[str]:
        return list(self.info.get("queues") or [])

    @property
    def stopped(self) -> bool:
        return bool(self.info.get("stopped"))


def _redis_client() -> Any:
    global _redis
    if _redis is None and settings.REDIS_URL:
        with _redis_lock:
            if _redis is None:
                import redis

                _redis = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1.0, socket_connect_timeout=1.0)
    return _redis


def host_name() -> str:
    """The host a heartbeat names: ASIRIKUY_HOST when set (a name of your own, or processes standing in for hosts on
    one machine), else the machine's (the container's) host name. ``manage.py health_check`` matches on it."""
    return os.environ.get("ASIRIKUY_HOST") or socket.gethostname()


def process_name(role: str) -> str:
    return f"{role}@{host_name()}:{os.getpid()}"


def heartbeat_record(*, key: str, role: str, info: dict[str, Any] | None = None, now: datetime | None = None) -> None:
    """Record that process ``key`` is alive now."""
    now = now or datetime.now(UTC)
    payload = {**(info or {}), "role": role, "at": now.isoformat()}
    payload.setdefault("host", host_name())
    payload.setdefault("pid", os.getpid())
    client = _redis_client()
    if client is not None:
        client.hset(REDIS_KEY, key, json.dumps(payload))
        return
    from django.db import close_old_connections

    from ops.models import Heartbeat

    close_old_connections()  # a thread's connection may have died with a database restart
    Heartbeat.objects.update_or_create(key=key, defaults={"info": payload, "at": now})


def heartbeats() -> list[Beat]:
    """Every recorded process, newest first."""
    client = _redis_client()
    if client is not None:
        raw = client.hgetall(REDIS_KEY) or {}
        rows = [(k.decode() if isinstance(k, bytes) else k, json.loads(v)) for k, v in raw.items()]
    else:
        from ops.models import Heartbeat

        rows = [(hb.key, hb.info) for hb in Heartbeat.objects.all()]
    beats = []
    for key, info in rows:
        try:
            at = datetime.fromisoformat(info["at"])
        except (KeyError, TypeError, ValueError):
            continue
        beats.append(Beat(key=key, role=str(info.get("role", "")), at=at, info=info))
    return sorted(beats, key=lambda b: b.at, reverse=True)


def heartbeats_forget(now: datetime) -> int:
    """Drop processes not heard from for a day (a restarted worker comes back under a new pid)."""
    old = [b.key for b in heartbeats() if now - b.at > FORGET_AFTER]
    if not old:
        return 0
    client = _redis_client()
    if client is not None:
        client.hdel(REDIS_KEY, *old)
    else:
        from ops.models import Heartbeat

        Heartbeat.objects.filter(key__in=old).delete()
    return len(old)


class HeartbeatThread(threading.Thread):
    """Beats every OPS_HEARTBEAT_SECONDS until stopped; a failing store is logged once a minute, never raised."""

    def __init__(self, *, key: str, role: str, info: dict[str, Any]) -> None:
        super().__init__(name=f"heartbeat {key}", daemon=True)
        self.key, self.role, self.info = key, role, info
        self.stop_event = threading.Event()
        self.info_fn: Callable[[], dict[str, Any]] | None = None  # what changes while the process runs
        self._last_error_log = 0.0

    def run(self) -> None:
        interval = float(settings.OPS_HEARTBEAT_SECONDS)
        while not self.stop_event.is_set():
            self.beat()
            self.stop_event.wait(interval)

    def beat(self, **extra: Any) -> None:
        try:
            live = self.info_fn() if self.info_fn is not None else {}
            heartbeat_record(key=self.key, role=self.role, info={**self.info, **live, **extra})
        except Exception as e:  # the store may be away for a while; the process goes on
            if time.monotonic() - self._last_error_log > 60:
                self._last_error_log = time.monotonic()
                logger.warning("heartbeat of %s not recorded: %s: %s", self.key, type(e).__name__, e)

    def stop(self, *, final: bool = True) -> None:
        self.stop_event.set()
        if final:
            self.beat(stopped=True)


_threads: dict[str, HeartbeatThread] = {}


def heartbeat_start(
    *,
    role: str,
    key: str | None = None,
    info: dict[str, Any] | None = None,
    info_fn: Callable[[], dict[str, Any]] | None = None,
) -> HeartbeatThread:
    """Start this process's heartbeat thread (once per key); ``info_fn`` adds what changes while it runs."""
    key = key or process_name(role)
    thread = _threads.get(key)
    if thread is None or not thread.is_alive():
        started = datetime.now(UTC).isoformat()
        thread = HeartbeatThread(key=key, role=role, info={**(info or {}), "started_at": started})
        thread.info_fn = info_fn
        _threads[key] = thread
        thread.start()
    return thread


def heartbeat_stop(key: str) -> None:
    thread = _threads.pop(key, None)
    if thread is not None:
        thread.stop()
