"""Benchmark one c_runStrategy call: MA crossover on a 1,000-bar H1 window.

Prints calls/s through the binding (Framework.run), the C-side cost (a raw ctypes call with
prebuilt arguments), the binding's Python overhead (binding - raw), a trivial ctypes call
(getFrameworkVersion) as the baseline, and the ratios.

Run: make -C framework/c && .venv/bin/python bench/framework_call.py
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from framework import (  # noqa: E402
    CRATES_DTYPE,
    MA_CROSSOVER,
    AccountInfo,
    BidAsk,
    RatesSlot,
    StrategySettings,
    load_framework,
)
from framework.types import ORDER_INFO_DTYPE, RATES_INFO_DTYPE, RESULT_DTYPE  # noqa: E402

BARS = 1000
INSTANCE_ID = 90_001


def _bars(n: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    close = 1.1 + np.cumsum(rng.normal(0, 0.0008, n))
    bars = np.zeros(n, dtype=CRATES_DTYPE)
    bars["close"] = close
    bars["open"] = np.r_[close[0], close[:-1]]
    bars["high"] = np.maximum(bars["open"], close) + 0.0004
    bars["low"] = np.minimum(bars["open"], close) - 0.0004
    bars["time"] = 1_700_000_000 - 1_700_000_000 % 3600 + 3600 * np.arange(n)
    bars[-1] = (close[-1], close[-1], close[-1], close[-1], 0.0, bars["time"][-1])
    return bars


def _per_call(fn: Callable[[], object], calls: int, repeats: int) -> float:
    """Best-of-repeats CPU seconds per call (process time, so other load on the host does not count)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for _ in range(calls):
            fn()
        best = min(best, (time.process_time() - start) / calls)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--library", default=None, help="library path (default: env or our build)")
    args = parser.parse_args()

    fw = load_framework(args.library)
    fw.ensure_instance(INSTANCE_ID, is_testing=True)
    bars = _bars(BARS)
    settings = StrategySettings.for_strategy(
        MA_CROSSOVER, instance_id=INSTANCE_ID, timeframe=60, params={"FAST_PERIOD": 20, "SLOW_PERIOD": 50}
    )
    account = AccountInfo(1, 10_000.0, 10_000.0, 0.0, 50.0, 100_000.0, 0.0, 50.0)
    prices = BidAsk(bid=float(bars["close"][-1]), ask=float(bars["close"][-1]) + 0.0001)
    slots = [RatesSlot(bars, required_timeframe=60, total_bars_required=BARS, actual_timeframe=60)]
    now = int(bars["time"][-1]) + 1800

    def binding_call() -> object:
        return fw.run(
            instance_id=INSTANCE_ID,
            settings=settings,
            symbol="EURUSD",
            account_currency="USD",
            broker_name="UTC",
            ref_broker_name="UTC",
            current_time=now,
            orders=(),
            account=account,
            prices=prices,
            slots=slots,
        )

    def binding_fresh_inputs_call() -> object:
        # What a live run does: new RatesSlot and BidAsk objects every call (the bar array itself is reused).
        return fw.run(
            instance_id=INSTANCE_ID,
            settings=settings,
            symbol="EURUSD",
            account_currency="USD",
            broker_name="UTC",
            ref_broker_name="UTC",
            current_time=now,
            orders=(),
            account=account,
            prices=BidAsk(bid=prices.bid, ask=prices.ask),
            slots=[RatesSlot(bars, required_timeframe=60, total_bars_required=BARS, actual_timeframe=60)],
        )

    # Raw call: every argument prebuilt once, so only ctypes + C run per call.
    ffi = fw.ffi
    settings_arr = settings.to_array()
    time_count = np.array([now, 0], dtype=np.int32)
    orders = np.zeros(settings.order_info_array_size, dtype=ORDER_INFO_DTYPE)
    account_arr = np.array(account.as_row())
    bid_ask = np.array(prices.as_row())
    rates_info = np.zeros(10, dtype=RATES_INFO_DTYPE)
    rates_info[0] = (1, 60, BARS, 60, BARS, 1e-5, 5)
    results = np.zeros(settings.max_open_orders, dtype=RESULT_DTYPE)
    raw_fn = ffi.raw_run_function()
    strings = [ffi.make_string_buffer(s, 16) for s in (b"EURUSD", b"USD", b"UTC", b"UTC")]
    raw_args = (
        settings_arr.ctypes.data,
        *strings,
        time_count.ctypes.data,
        time_count.ctypes.data + 4,
        orders.ctypes.data,
        account_arr.ctypes.data,
        bid_ask.ctypes.data,
        rates_info.ctypes.data,
        bars.ctypes.data,
        *([None] * 9),
        results.ctypes.data,
    )

    def raw_call() -> object:
        return raw_fn(*raw_args)  # type: ignore[operator]

    assert raw_call() == 0 and binding_call() is not None

    def version_call() -> object:
        return ffi.version()

    version_fn, version_args = ffi.version_function()

    def trivial_call() -> object:
        return version_fn(*version_args)  # type: ignore[operator]

    binding = _per_call(binding_call, args.calls, args.repeats)
    fresh = _per_call(binding_fresh_inputs_call, args.calls, args.repeats)
    raw = _per_call(raw_call, args.calls, args.repeats)
    trivial = _per_call(trivial_call, args.calls * 5, args.repeats)
    version_wrapped = _per_call(version_call, args.calls, args.repeats)
    c_time = max(raw - trivial, 0.0)
    overhead = max(binding - raw, 0.0)

    us = 1e6
    print(f"library: {fw.library_path} (version {'.'.join(map(str, fw.version))})")
    print(
        f"workload: MA_CROSSOVER 20/50 SMA, ATR 14, {BARS}-bar H1 window, {args.calls} calls x best of {args.repeats}"
    )
    print(f"binding  Framework.run          {binding * us:8.2f} us/call  {1 / binding:12,.0f} calls/s")
    print(f"binding + new RatesSlot/BidAsk  {fresh * us:8.2f} us/call  {1 / fresh:12,.0f} calls/s")
    print(f"raw      c_runStrategy (ctypes) {raw * us:8.2f} us/call  {1 / raw:12,.0f} calls/s")
    print(f"trivial  getFrameworkVersion    {trivial * us:8.2f} us/call  (bare ctypes call, baseline)")
    print(f"         ffi.version() wrapper  {version_wrapped * us:8.2f} us/call")
    print(f"C time per call   (raw - trivial)  {c_time * us:8.2f} us")
    print(f"Python overhead   (binding - raw)  {overhead * us:8.2f} us")
    fresh_overhead = max(fresh - raw, 0.0)
    print(f"overhead incl. building inputs     {fresh_overhead * us:8.2f} us")
    print(f"ratio overhead / C time            {overhead / c_time if c_time else float('inf'):8.2f}x  (target < 2x)")
    print(f"ratio same, incl. building inputs  {fresh_overhead / c_time if c_time else float('inf'):8.2f}x")
    print(f"ratio raw / trivial ctypes call    {raw / trivial:8.2f}x")
    print(f"ratio binding / raw                {binding / raw:8.2f}x")
    print(f"C time target < 20 us: {'met' if c_time * us < 20 else 'NOT met'}")
    fw.deinit_instance(INSTANCE_ID)


if __name__ == "__main__":
    main()
