"""The fast backtest engine of our library (asirikuy_backtest_run), without ctypes.

The loop, the order translation and the simulated broker run in C; see
framework/c/include/asirikuy_backtest.h and backtests/engine/fast.py, which builds the inputs.
"""

from __future__ import annotations

import numpy as np

from framework import _ffi
from framework.errors import error_for_code
from framework.strategy import Framework

BT_TRADE_DTYPE = _ffi.BT_TRADE_DTYPE
HUGE_PAGE = 2 << 20  # x86-64 and arm64 transparent huge pages


def has_fast_backtest(framework: Framework) -> bool:
    """Return True when the loaded library exports our backtest API (the legacy library does not)."""
    return framework.ffi.has_backtest


def curve_buffers(bars: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Balance, equity (float64) and in_market (uint8) for ``bars`` bars, uninitialised.

    The engine writes 17 bytes a bar into fresh pages, and their first touch (a page fault per 4 KiB) is a visible
    share of a run in a fresh process. Large curves are one block starting on a 2 MiB boundary: numpy asks for
    transparent huge pages on allocations of 4 MiB and more (madvise), and a huge page is only used where the range
    covers it whole, so the block is aligned rather than leaving two unaligned 8 MB arrays to 4 KiB pages at both
    ends (the benchmark's first call on 1,000,000 bars: 3,376 page faults to 1,333, the rest mostly the trade rows;
    ~23.5 to ~20 ms of CPU). The unused head and tail are never touched, so never mapped; where huge pages are off
    the block costs what three arrays cost. The arrays are views of the block, which lives as long as any of them.
    """
    size = 17 * bars
    if size < 2 * HUGE_PAGE:
        return np.empty(bars, np.float64), np.empty(bars, np.float64), np.empty(bars, np.uint8)
    raw = np.empty(size + HUGE_PAGE, dtype=np.uint8)
    block = raw[-raw.ctypes.data % HUGE_PAGE :][:size]
    return block[: 8 * bars].view(np.float64), block[8 * bars : 16 * bars].view(np.float64), block[16 * bars :]


def fast_backtest(
    framework: Framework,
    *,
    settings: np.ndarray,
    arrays: dict[str, np.ndarray],
    slots: list[dict[str, object]],
    scalars: dict[str, float | int],
    bars: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, bool, int]:
    """Run the C loop; return (trades, time, balance, equity, in_market, rejected, stopped_out, dropped).

    ``time`` is a view of ``arrays["close_time"]`` from ``scalars["first"]``: the engine would only copy it
    (and fault in 8 MB of fresh pages per million bars doing so). Raises the FrameworkError subclass of a
    non-zero return code.
    """
    # empty, not zeros: the engine writes every bar it returns (the first ``done``); zeros always maps fresh
    # zeroed pages, empty may reuse freed memory (page faults are a visible share of a run on a virtual machine)
    balance, equity, in_market = curve_buffers(bars)
    code, trades, done, rejected, stopped, dropped = _ffi.backtest_run(
        framework.ffi,
        settings=settings,
        arrays=arrays,
        slots=slots,
        scalars=scalars,
        out_time=None,
        out_balance=balance,
        out_equity=equity,
        out_in_market=in_market,
    )
    if code != 0:
        raise error_for_code(code, f"asirikuy_backtest_run (strategy {int(settings[52])})")
    first = int(scalars["first"])
    time = arrays["close_time"][first : first + done]
    return (
        trades,
        time,
        balance[:done],
        equity[:done],
        in_market[:done].view(np.bool_),
        rejected,
        bool(stopped),
        dropped,
    )
