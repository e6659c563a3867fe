"""Our rows of bench/backtest_speed.py, each run in its own process: the fast engine, the parity engine, the
Python port in the parity engine. Prints one JSON line: seconds and CPU seconds of the engine call, trades,
the first tested bar, a digest of every trade and of the equity curve (the rows must agree), the seconds
building the input (MarketData) took, and the peak RSS of the process.

Timed as every peer is (peers.timed_runs): the set-up (the library, the MarketData) once, untimed; one warm-up
call of the engine on the same bars (``cold_seconds``: the first call in a fresh process, with the first touch
of the output buffers' pages), then REPEAT timed calls, the median the figure. Every call must give the same
digest. WARMUP 0 (the --scale mode) times one call from the first.

    python bench/bench_ours.py ROW BARS_DIR [REPEAT] [WARMUP]     # ROW: fast, parity, python
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))  # peers.timed_runs: the same timing as every peer
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "asirikuy_site.settings")

OURS = ("fast", "parity", "python")
PY_MA_CROSSOVER = 1100  # strategies/ma_crossover.py, the C strategy rule for rule
PARAMS = {"FAST_PERIOD": 10, "SLOW_PERIOD": 30, "SL_ATR_MULTIPLIER": 0.0, "TP_ATR_MULTIPLIER": 0.0}
RULES = {
    "fast": "MA_CROSSOVER over the live window (354 closed bars): the C loop's kernel decides from exact SMA sums "
    "in points and falls back to the window's float SMAs on a tie, so ties go as the strategy's rounding says; "
    "fills at the bar's close (bid = close, zero spread); lots sized on the ATR (risk 0.01 %)",
    "parity": "the same strategy through c_runStrategy per bar, the live translation and the simulated broker",
    "python": "the Python port PY_MA_CROSSOVER in the parity engine (indicators from the C library's tables)",
}


def ours_row(row: str, folder: Path, repeat: int = 3, warmup: bool = True) -> dict[str, Any]:
    import django
    from peers import timed_runs

    django.setup()
    from backtests.engine.fast import run_fast
    from backtests.engine.market import Costs
    from backtests.engine.parity import run_parity
    from backtests.engine.synthetic import synthetic_market
    from framework import MA_CROSSOVER, StrategySettings, get_framework, get_strategy

    bars = {name: np.load(folder / f"{name}.npy") for name in ("time", "open", "high", "low", "close")}
    strategy_id = PY_MA_CROSSOVER if row == "python" else MA_CROSSOVER
    # MAX_OPEN_ORDERS = 1 (the instance default): the reversal shares the close's result row
    settings = StrategySettings.for_strategy(
        strategy_id,
        instance_id=9001,
        timeframe=1,
        params=PARAMS,
        account_risk_percent=0.01,
        max_open_orders=1,
        order_info_array_size=20,
        is_backtesting=True,
    )
    # the live window for these parameters: the catalog's bars (ATR(14) settled, framework/warmup.py) + the margin
    closed = get_strategy(MA_CROSSOVER).required_bars(PARAMS)[0] - 1
    windows = [(1, closed + max(10, closed // 5))]
    costs = Costs(spread_points=0)  # a throughput run: no cost drift, so the account lasts all the bars
    framework = get_framework()  # loading the library is process start-up, not a backtest
    started = time.perf_counter()
    # the bars' spread is the one Costs says (synthetic_market would otherwise use its 10-point default)
    market = synthetic_market(bars, timeframe=1, windows=windows, spread_points=costs.spread_points or 0)
    input_seconds = time.perf_counter() - started
    del bars
    digests: set[str] = set()

    def once() -> tuple[int, tuple[float, float]]:
        wall, cpu = time.perf_counter(), time.process_time()
        if row == "fast":
            result = run_fast(
                data=market, settings=settings, costs=costs, initial_balance=10_000.0, framework=framework
            )
        else:
            result = run_parity(
                data=market,
                settings=settings,
                costs=costs,
                initial_balance=10_000.0,
                account_currency="USD",
                framework=framework,
            )
        elapsed = time.perf_counter() - wall, time.process_time() - cpu
        digest = hashlib.sha256()
        for trade in result.trades:
            digest.update(repr(trade.key()).encode())
        digest.update(np.ascontiguousarray(result.equity).tobytes())
        digests.add(digest.hexdigest())
        return len(result.trades), elapsed  # the result goes here, before the next call (as a caller drops it)

    timed = timed_runs(once, repeat, warmup)
    if len(digests) != 1:
        raise RuntimeError(f"the calls of {row} disagree on the trades or the equity: {len(digests)} digests")
    return {
        **timed,
        "first_signal": market.first,
        "digest": digests.pop(),
        "input_seconds": input_seconds,
        "rules": RULES[row],
    }


def main() -> None:
    repeat = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    warmup = sys.argv[4] != "0" if len(sys.argv) > 4 else True
    result = ours_row(sys.argv[1], Path(sys.argv[2]), repeat, warmup)
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps(result))


if __name__ == "__main__":
    main()
