"""Fixtures of the live strategy tests, shared with their neighbours: the backtests' stored random-walk bars
(enough to train a model on) and the bar-close batch's market (its last closed bar is an up cross)."""

from __future__ import annotations

from tests.backtests.conftest import stored_bars, walk  # noqa: F401  (stored M1 bars of a random walk)
from tests.trading.execution.support import market  # noqa: F401  (the batch tests' market fixture)
