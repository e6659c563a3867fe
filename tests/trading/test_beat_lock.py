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
