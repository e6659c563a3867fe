"""The char* arguments: our library only reads them, so the binding may skip the after-call check for it."""

from __future__ import annotations

import pytest
from fwtest_support import random_walk_bars, run, slot

from framework import MA_CROSSOVER, StrategySettings

pytestmark = pytest.mark.ours_only  # our library never rewrites a string argument


def test_our_library_leaves_every_string_buffer_as_it_was(fw, instance_id):
    settings = StrategySettings.for_strategy(
        MA_CROSSOVER, instance_id=instance_id, timeframe=60, params={"FAST_PERIOD": 5, "SLOW_PERIOD": 20}
    )
    bars = random_walk_bars(300)
    texts = ("EURUSD", "USD", "UTC", "UTC")

    for end in range(100, 300, 20):
        run(fw, settings, [slot(bars[:end], total=100)])

    lib = fw.ffi
    assert lib.has_backtest and not lib.strings_checked  # the fast path is taken only for our library
    for text in texts:
        buf, raw = lib._cstr(text)
        assert buf.raw[: len(raw) + 1] == raw + b"\0"
