from __future__ import annotations

import pytest

from asirikuy_site.celery import app
from trading.beat import BeatAlreadyRunning, SingleBeatScheduler, beat_lock_acquire, beat_lock_release


def test_a_beat_elsewhere_is_refused_while_one_runs_and_accepted_after_it_stops(transactional_db):
    running = SingleBeatScheduler(app=app)
    banner = SingleBeatScheduler(app=app, lazy=True)  # celery beat's own banner instance must not conflict

    with pytest.raises(BeatAlreadyRunning, match="exactly one beat may run"):
        beat_lock_acquire("other-host:4242")

    running.close()
    beat_lock_acquire("other-host:4242")
    beat_lock_release("other-host:4242")
    assert banner is not None


def test_a_replacement_on_the_same_host_takes_the_lock_of_a_killed_beat_at_once(transactional_db):
    import socket
    import subprocess
    import sys

    from django.core.cache import cache

    from trading.beat import LOCK_KEY

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(timeout=10)
    cache.set(LOCK_KEY, f"{socket.gethostname()}:{gone.pid}", 60)  # what a SIGKILLed beat leaves behind

    beat_lock_acquire("replacement:1")

    assert cache.get(LOCK_KEY) == "replacement:1"
    beat_lock_release("replacement:1")


def test_beat_keeps_ticking_while_redis_is_away_and_sends_again_after(transactional_db, settings):
    import socket

    from django.test import override_settings

    from trading.beat import RETRY_SECONDS

    if not settings.REDIS_URL:
        pytest.skip("needs Redis (run through scripts/test.sh)")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = f"redis://127.0.0.1:{s.getsockname()[1]}/0"
    s.close()
    beat = SingleBeatScheduler(app=app)
    try:
        with override_settings(
            CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": dead}}
        ):
            assert beat.tick() == RETRY_SECONDS  # no exception: beat stays up and tries again shortly

        assert beat.tick() <= 5  # back: it holds the lock and schedules as before
    finally:
        beat.close()
