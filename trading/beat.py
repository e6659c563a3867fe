"""The beat scheduler: django-celery-beat's DatabaseScheduler that refuses to run twice and outlives outages.

Two beat processes would send every periodic task twice. Runs are idempotent per bar, so nothing
would trade twice, but every bar would cost two task deliveries; more importantly a second beat is
always a deployment mistake, so the second one stops at once and says who holds the lock.
The lock lives in the cache (Redis in production) and expires LOCK_SECONDS after its holder stops
refreshing it, so a crashed beat does not block its replacement for long; a replacement on the same host
takes the lock at once when the holder's process is gone.

Beat keeps running through a Redis or PostgreSQL outage: while the lock cannot be read or the schedule cannot
be loaded it sends nothing and tries again every RETRY_SECONDS (a bar close missed meanwhile is re-queued or
recorded missed by the sweeper once beat runs again).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import Any

from django.core.cache import cache
from django_celery_beat.schedulers import DatabaseScheduler

from trading.services.execution.infra import INFRASTRUCTURE_ERRORS
from trading.services.execution.lease import holder_process_gone

logger = logging.getLogger(__name__)
LOCK_KEY = "asirikuy:beat-lock"
LOCK_SECONDS = 15
RETRY_SECONDS = 2.0


class BeatAlreadyRunning(SystemExit):
    """Another beat holds the lock: exactly one beat may run."""


def beat_lock_acquire(token: str) -> None:
    if cache.add(LOCK_KEY, token, LOCK_SECONDS):
        return
    holder = cache.get(LOCK_KEY)
    if holder == token:
        cache.touch(LOCK_KEY, LOCK_SECONDS)
        return
    if holder is None or holder_process_gone(str(holder)):
        logger.warning("beat lock of %s taken over: its process is gone", holder)
        cache.set(LOCK_KEY, token, LOCK_SECONDS)
        return
    raise BeatAlreadyRunning(
        f"another celery beat is running ({holder}); exactly one beat may run. "
        f"If it crashed, its lock expires within {LOCK_SECONDS} s."
    )


def beat_lock_release(token: str) -> None:
    if cache.get(LOCK_KEY) == token:
        cache.delete(LOCK_KEY)


class SingleBeatScheduler(DatabaseScheduler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # One token per process: celery beat builds a second, lazy scheduler just to print its banner.
        self._lock_token = f"{socket.gethostname()}:{os.getpid()}"
        self._away_since: float | None = None
        if not kwargs.get("lazy"):
            self._acquire_waiting()
        super().__init__(*args, **kwargs)

    def _acquire_waiting(self) -> None:
        """At start: wait for the cache (Redis) rather than exit while it is away."""
        while True:
            try:
                beat_lock_acquire(self._lock_token)
                return
            except INFRASTRUCTURE_ERRORS as e:
                logger.warning("beat: the lock cannot be taken yet (%s); retrying", e)
                time.sleep(RETRY_SECONDS)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        try:
            beat_lock_acquire(self._lock_token)
            interval = super().tick(*args, **kwargs)
        except INFRASTRUCTURE_ERRORS as e:
            self._away(e)
            return RETRY_SECONDS
        if self._away_since is not None:
            logger.warning("beat: sending again after %.0f s", time.monotonic() - self._away_since)
            self._away_since = None
        return min(interval, LOCK_SECONDS / 3)

    def _away(self, error: BaseException) -> None:
        if self._away_since is None:
            self._away_since = time.monotonic()
            logger.warning("beat: Redis or the database is away (%s); sending nothing until it is back", error)

    def close(self) -> None:
        try:
            beat_lock_release(self._lock_token)
        except INFRASTRUCTURE_ERRORS:
            pass  # the lock lapses on its own
        super().close()
