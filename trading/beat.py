"""The beat scheduler: django-celery-beat's DatabaseScheduler that refuses to run twice.

Two beat processes would send every periodic task twice. Runs are idempotent per bar, so nothing
would trade twice, but every bar would cost two task deliveries; more importantly a second beat is
always a deployment mistake, so the second one stops at once and says who holds the lock.
The lock lives in the cache (Redis in production) and expires LOCK_SECONDS after its holder stops
refreshing it, so a crashed beat does not block its replacement for long.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from django.core.cache import cache
from django_celery_beat.schedulers import DatabaseScheduler

logger = logging.getLogger(__name__)
LOCK_KEY = "asirikuy:beat-lock"
LOCK_SECONDS = 60


class BeatAlreadyRunning(SystemExit):
    """Another beat holds the lock: exactly one beat may run."""


def beat_lock_acquire(token: str) -> None:
    if cache.add(LOCK_KEY, token, LOCK_SECONDS):
        return
    holder = cache.get(LOCK_KEY)
    if holder == token:
        cache.touch(LOCK_KEY, LOCK_SECONDS)
        return
    raise BeatAlreadyRunning(
        f"another celery beat is running ({holder}); exactly one beat may run. "
        f"If it crashed, its lock expires within {LOCK_SECONDS} s."
    )


class SingleBeatScheduler(DatabaseScheduler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # One token per process: celery beat builds a second, lazy scheduler just to print its banner.
        self._lock_token = f"{socket.gethostname()}:{os.getpid()}"
        if not kwargs.get("lazy"):
            beat_lock_acquire(self._lock_token)
        super().__init__(*args, **kwargs)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        beat_lock_acquire(self._lock_token)
        return min(super().tick(*args, **kwargs), LOCK_SECONDS / 3)

    def close(self) -> None:
        beat_lock_release(self._lock_token)
        super().close()


def beat_lock_release(token: str) -> None:
    if cache.get(LOCK_KEY) == token:
        cache.delete(LOCK_KEY)
