"""Instance lifecycle and thread safety: two instances on two threads match a sequential run."""

from __future__ import annotations

import threading

import pytest
from fwtest_support import random_walk_bars, run, slot

from framework import CHANNEL_BREAKOUT, MA_CROSSOVER, StrategySettings, get_framework
from framework.errors import UnknownInstanceIdError

pytestmark = pytest.mark.ours_only  # our strategies and our instance table rules

BARS = random_walk_bars(1200, seed=21)
WINDOWS = range(200, 1200, 2)


def _replay(fw, settings: StrategySettings) -> list:
    return [run(fw, settings, [slot(BARS[: end + 1], total=150)]) for end in WINDOWS]


def _settings(fw, instance_id: int, strategy_id: int) -> StrategySettings:
    fw.ensure_instance(instance_id, is_testing=True)
    params = {"FAST_PERIOD": 4, "SLOW_PERIOD": 15} if strategy_id == MA_CROSSOVER else {"CHANNEL_PERIOD": 12}
    return StrategySettings.for_strategy(strategy_id, instance_id=instance_id, timeframe=60, params=params)


def test_two_instances_on_two_threads_match_sequential_runs(fw):
    first = _settings(fw, 7001, MA_CROSSOVER)
    second = _settings(fw, 7002, CHANNEL_BREAKOUT)
    sequential = [_replay(fw, first), _replay(fw, second)]
    assert sum(map(bool, sequential[0])) >= 5 and sum(map(bool, sequential[1])) >= 5

    concurrent: list[list | None] = [None, None]
    barrier = threading.Barrier(2)

    def worker(slot_index: int, settings: StrategySettings) -> None:
        barrier.wait()
        concurrent[slot_index] = _replay(fw, settings)

    threads = [threading.Thread(target=worker, args=(i, s)) for i, s in enumerate((first, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert concurrent == sequential
    fw.deinit_instance(7001)
    fw.deinit_instance(7002)


def test_two_threads_sharing_one_instance_get_the_same_results(fw):
    settings = _settings(fw, 7003, MA_CROSSOVER)
    expected = _replay(fw, settings)
    results: list[list | None] = [None] * 4
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, _replay(fw, settings))) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 4
    fw.deinit_instance(7003)


def test_deinit_forgets_the_instance_and_reinit_restores_identical_behaviour(fw):
    settings = _settings(fw, 7004, MA_CROSSOVER)
    before = _replay(fw, settings)
    fw.deinit_instance(7004)
    with pytest.raises(UnknownInstanceIdError):
        run(fw, settings, [slot(BARS[:300])])
    fw.ensure_instance(7004)
    assert _replay(fw, settings) == before
    fw.reset_instance(7004)
    assert _replay(fw, settings) == before
    fw.deinit_instance(7004)


def test_ensure_instance_is_idempotent(fw):
    fw.ensure_instance(7005)
    fw.ensure_instance(7005)
    fw.deinit_instance(7005)
    with pytest.raises(UnknownInstanceIdError):
        run(fw, _settings_only(7005), [slot(BARS[:300])])


def _settings_only(instance_id: int) -> StrategySettings:
    return StrategySettings.for_strategy(MA_CROSSOVER, instance_id=instance_id, timeframe=60)


def test_get_framework_is_a_thread_safe_singleton():
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(get_framework())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 8 and all(f is seen[0] for f in seen)
    assert seen[0].version == (5, 0, 0)
