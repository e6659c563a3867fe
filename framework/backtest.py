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


def has_fast_backtest(framework: Framework) -> bool:
    """Return True when the loaded library exports our backtest API (the legacy library does not)."""
    return framework.ffi.has_backtest


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
    balance = np.empty(bars, dtype=np.float64)
    equity = np.empty(bars, dtype=np.float64)
    in_market = np.empty(bars, dtype=np.uint8)
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
