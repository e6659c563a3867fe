"""Seeded random corruption of every input: the library answers a documented code and never crashes.

Run it against a sanitizer build to catch out-of-bounds access, e.g.
make -C framework/c BUILD=/tmp/asan EXTRA_CFLAGS=-fsanitize=address,undefined LDFLAGS="-shared -fsanitize=address,undefined"
ASIRIKUY_FRAMEWORK_LIBRARY=/tmp/asan/libasirikuy_framework.so LD_PRELOAD="$(gcc -print-file-name=libasan.so)" pytest ...
"""

from __future__ import annotations

import numpy as np
import pytest
from fwtest_support import RawCall, random_walk_bars

from framework import CHANNEL_BREAKOUT, MA_CROSSOVER, MEAN_REVERSION, RECORD_BARS, StrategySettings

pytestmark = pytest.mark.ours_only  # our library's validation of every argument (a legacy library reads unchecked)

ALLOWED = {0, 3005, 3006, 3009, 3017, 3019, 3026, 3030}
INTERESTING = np.array([0.0, -1.0, 1.0, 2.0, 0.5, 1e12, -1e12, np.nan, np.inf, -np.inf, 60.0, 240.0, 1e-12, 5000.0])


def _corrupt(rng: np.random.Generator, array: np.ndarray) -> None:
    flat = array.view(np.float64).reshape(-1) if array.dtype.names is None or array.dtype.itemsize % 8 == 0 else None
    if flat is None or flat.size == 0:
        return
    for _ in range(rng.integers(1, 4)):
        flat[rng.integers(0, flat.size)] = rng.choice(INTERESTING)


def test_random_corruption_returns_documented_codes(fw, instance_id):
    rng = np.random.default_rng(1234)
    bars = random_walk_bars(120, seed=9)
    trend = random_walk_bars(80, seed=10, timeframe=240)
    codes = []
    for iteration in range(1500):
        strategy = [RECORD_BARS, MA_CROSSOVER, CHANNEL_BREAKOUT, MEAN_REVERSION][iteration % 4]
        settings = StrategySettings.for_strategy(
            strategy, instance_id=instance_id, timeframe=60, max_open_orders=int(rng.integers(1, 4))
        ).to_array()
        call = RawCall(settings=settings, bars=bars.copy())
        call.rates_info[1] = (1, 240, 40, 240, len(trend), 1e-5, 5)
        target = rng.integers(0, 6)
        if target == 0:
            _corrupt(rng, call.settings[:64])
        elif target == 1:
            _corrupt(rng, call.rates_info)
        elif target == 2:
            call.orders[: rng.integers(1, 5)] = 1.0
            _corrupt(rng, call.orders)
        elif target == 3:
            _corrupt(rng, call.account)
            _corrupt(rng, call.bid_ask)
        elif target == 4:
            prices = call.bars.view(np.float64).reshape(len(call.bars), 6)[:, :5]
            prices[rng.integers(0, len(call.bars)), rng.integers(0, 5)] = rng.choice(INTERESTING)
        else:
            call.bars["time"][rng.integers(1, len(call.bars))] = rng.integers(-(2**31), 2**31 - 1)
        # Keep the caller's side of the contract: buffers as large as the sizes they declare.
        call.results = np.zeros(_declared(call.settings[45], 1000, 1), dtype=call.results.dtype)
        order_count = _declared(call.settings[63], 10_000, 0)
        if order_count > len(call.orders):
            call.orders = np.resize(call.orders, order_count)
        slot_bars = [_padded(call.bars, call.rates_info[0]), _padded(trend, call.rates_info[1])]
        code = _call(fw, call, slot_bars)
        assert code in ALLOWED, (iteration, code)
        codes.append(code)
    assert codes.count(0) > 100 and codes.count(3017) > 100  # the corpus exercises both paths


def _declared(value: float, cap: int, fallback: int) -> int:
    return int(value) if np.isfinite(value) and 0 <= value <= cap and value == int(value) else fallback


def _padded(bars: np.ndarray, info: np.void) -> np.ndarray:
    size = _declared(float(info["ratesArraySize"]), 1_000_000, 0)
    return np.resize(bars, size) if size > len(bars) else bars


def _call(fw, call: RawCall, slot_bars: list[np.ndarray]) -> int:
    rates = [int(b.ctypes.data) for b in slot_bars] + [None] * 8
    return fw.ffi.run_strategy(
        int(call.settings.ctypes.data),
        "EURUSD",
        "USD",
        "UTC",
        "UTC",
        int(call.time_and_count.ctypes.data),
        int(call.orders.ctypes.data),
        int(call.account.ctypes.data),
        int(call.bid_ask.ctypes.data),
        int(call.rates_info.ctypes.data),
        rates,
        int(call.results.ctypes.data),
    )
