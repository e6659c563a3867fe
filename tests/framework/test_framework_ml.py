"""The ML example's no-look-ahead and reproducibility, without a database: a feature row (and so a
prediction) of bar t never changes when bars after t change, the label of bar t is bar t + 1's direction and
the last bar of a training range gets none (its close is the label of the bar before), and the same bars and seed give the same model bytes."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from backtests.engine.synthetic import random_walk
from framework import CRATES_DTYPE
from framework.pystrategy.registry import python_strategy_class

pytestmark = pytest.mark.ours_only  # our indicator exports under the ML strategy's features

pytest.importorskip("sklearn")


def _bars(n: int = 1500, seed: int = 9) -> np.ndarray:
    walk = random_walk(n, seed=seed, step_points=9)
    bars = np.zeros(n, dtype=CRATES_DTYPE)
    for name in ("open", "high", "low", "close"):
        bars[name] = walk[name] / 1e5
    bars["time"] = walk["time"]
    return bars


def _ml():
    cls = python_strategy_class(1200)
    assert cls is not None
    return cls


def test_a_feature_row_depends_on_its_bar_and_earlier_bars_only():
    features = __import__(_ml().__module__, fromlist=["features"]).features
    bars = _bars()
    base = features(bars)
    for t in (60, 300, 999, 1400):
        future = bars.copy()
        future["close"][t + 1 :] *= 1.5
        future["high"][t + 1 :] *= 1.5
        future["low"][t + 1 :] *= 0.5
        changed = features(future)
        assert np.array_equal(base[: t + 1], changed[: t + 1], equal_nan=True), t
        assert not np.array_equal(base[t + 1 :], changed[t + 1 :], equal_nan=True)


def test_training_never_reads_past_the_bars_it_is_given_and_is_reproducible():
    cls = _ml()
    params = {p.name: p.default for p in cls.params} | {"TREES": 8, "SEED": 3}
    bars = _bars()
    first = cls.train(bars[:1000], params)
    again = cls.train(bars[:1000].copy(), params)
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(again).hexdigest()
    other_seed = cls.train(bars[:1000], params | {"SEED": 4})
    assert hashlib.sha256(other_seed).hexdigest() != hashlib.sha256(first).hexdigest()
    # The bars after the range (the out-of-sample bars the model will predict) are not read.
    future = bars.copy()
    future["close"][1000:] *= 2.0
    assert cls.train(future[:1000], params) == first
