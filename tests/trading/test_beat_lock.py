from __future__ import annotations

import pytest

from asirikuy_site.celery import app
from trading.beat import BeatAlreadyRunning, SingleBeatScheduler


def test_a_second_beat_refuses_to_start_and_can_start_once_the_first_stops(transactional_db):
    first = SingleBeatScheduler(app=app)

    with pytest.raises(BeatAlreadyRunning, match="exactly one beat may run"):
        SingleBeatScheduler(app=app)

    first.close()
    second = SingleBeatScheduler(app=app)
    second.close()
