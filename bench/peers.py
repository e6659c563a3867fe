"""The rows of bench/backtest_speed.py that are not ours: the plain-C ceiling and the peer frameworks.

Each row runs in its own process, started by backtest_speed.py with the interpreter of the venv that holds the
peer (bench/requirements-peers.txt, bench/requirements-nautilus.txt), and prints one JSON line. This module
imports only numpy and the peer itself (no Django, nothing of the project), so a peer venv needs nothing else.

Every row, ours included (bench_ours.py uses ``timed_runs``), is timed the same way: its set-up (loading the
bars, building the peer's inputs, compiling the ceiling) is not timed; then one warm-up run on the same bars in
the same process, whose time is reported as ``cold_seconds`` and not counted (it holds numba's compilation,
first-use imports, the first touch of fresh pages), then timed runs, whose median is the row's figure: at least
REPEAT of them and, for rows of milliseconds, as many more as fill MIN_TIMED_SECONDS (at most MAX_RUNS), so that a
burst of load from other processes on the shared machine is one run among many, not one of three. Every run must
give the same trade count.

The same rules everywhere: SMA(10)/SMA(30) of the closes; at a bar's close, fast > slow now and fast <= slow
on the bar before is a cross up (close any short, go long), the mirror image a cross down (close any long, go
short); an entry needs no position of its own direction already open; market fills, no costs, one unit. The
trade count is every position opened (the last one is closed at the end or still open). Each peer's own
differences are in RULES.

    python bench/peers.py ROW BARS_DIR [REPEAT]   # ROW: ceiling, vectorbt, backtesting, nautilus, backtrader
"""

from __future__ import annotations

import ctypes
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

FAST, SLOW = 10, 30
SCALE = 1e5  # the bars are EURUSD-like points, 5 digits

RULES = {
    "ceiling": "one C loop over double closes: running sums (float rounding, not exact ties), fills at the close",
    "vectorbt": "SMA by vbt.MA (numba rolling mean); Portfolio.from_signals with long and short entries "
    "(opposite entry reverses), fills at the close",
    "backtesting": "SMA by pandas rolling mean (self.I); position.close() then buy/sell(size=1) in next(), "
    "trade_on_close=True, finalize_trades=True",
    "nautilus": "LAST bars from BarDataWrangler (a synthetic EUR/USD at a SIM venue, HEDGING OMS; BID bars alone "
    "leave no market to fill at); SMA indicators registered on the bars; close_position(position) by id then a "
    "market order of 1,000 units (the instrument's minimum), filled by bar execution",
    "backtrader": "SMA indicators on a PandasData feed; order_target_size(+1/-1) at next(), filled at the next "
    "bar's open (= this close on these bars)",
}

CEILING_C = r"""
/* SMA(fast)/SMA(slow) stop-and-reverse over the whole array: a cross up goes long, a cross down short (the
 * rules above), filled at the close; returns the positions opened, P/L through *pnl. */
int sma_cross(const double* close, int n, int fast, int slow, double* pnl) {
  double sf = 0, ss = 0, entry = 0, total = 0;
  int pos = 0, trades = 0, prev_up = 0, prev_down = 0, ready = 0;
  for (int i = 0; i < n; ++i) {
    sf += close[i];
    ss += close[i];
    if (i >= fast) sf -= close[i - fast];
    if (i >= slow) ss -= close[i - slow];
    if (i < slow - 1) continue;
    double f = sf / fast, s = ss / slow;
    int up = f > s, down = f < s;
    if (ready && up && !prev_up && pos != 1) {
      if (pos == -1) total += entry - close[i];
      pos = 1; entry = close[i]; ++trades;
    } else if (ready && down && !prev_down && pos != -1) {
      if (pos == 1) total += close[i] - entry;
      pos = -1; entry = close[i]; ++trades;
    }
    prev_up = up; prev_down = down; ready = 1;
  }
  *pnl = total;
  return trades;
}
"""


class Clock:
    """Wall and process CPU seconds since creation."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


MIN_TIMED_SECONDS = 1.0  # the timed runs of a row last at least this long together (or MAX_RUNS runs)
MAX_RUNS = 200
Once = Callable[[], tuple[int, tuple[float, float]]]  # one run: (trades, (wall, CPU seconds of the timed part))


def timed_runs(once: Once, repeat: int, warmup: bool = True) -> dict[str, Any]:
    """One untimed warm-up run (its time returned as ``cold_seconds``), then timed runs — at least ``repeat``, and
    more until they add up to MIN_TIMED_SECONDS (at most MAX_RUNS): the median wall and CPU seconds, every run's
    wall seconds, the trade count (the same in every run, or RuntimeError). ``warmup=False``: ``repeat`` runs
    timed from the first, no more (the --scale mode's single cold call)."""
    result: dict[str, Any] = {}
    trades: set[int] = set()
    if warmup:
        count, (wall, _) = once()
        trades.add(count)
        result["cold_seconds"] = wall
    walls: list[float] = []
    cpus: list[float] = []
    while len(walls) < max(repeat, 1) or (warmup and sum(walls) < MIN_TIMED_SECONDS and len(walls) < MAX_RUNS):
        count, (wall, cpu) = once()
        trades.add(count)
        walls.append(wall)
        cpus.append(cpu)
    if len(trades) != 1:
        raise RuntimeError(f"the runs disagree on the trade count: {sorted(trades)}")
    result.update(
        seconds=statistics.median(walls), cpu=statistics.median(cpus), runs=walls, trades=trades.pop(), repeat=repeat
    )
    return result


def load_bars(folder: Path) -> dict[str, np.ndarray]:
    return {name: np.load(folder / f"{name}.npy") for name in ("time", "open", "high", "low", "close")}


def ceiling(bars: dict[str, np.ndarray], repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        src, lib = Path(tmp) / "c.c", Path(tmp) / "c.so"
        src.write_text(CEILING_C)
        subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
        fn = ctypes.CDLL(str(lib)).sma_cross
        fn.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
        fn.restype = ctypes.c_int
        close = bars["close"] / SCALE
        pnl = np.zeros(1)

        def once() -> tuple[int, tuple[float, float]]:
            clock = Clock()
            trades = fn(close.ctypes.data, len(close), FAST, SLOW, pnl.ctypes.data)
            return int(trades), clock.read()

        return {**timed_runs(once, repeat), "first_signal": SLOW}


def _frame(bars: dict[str, np.ndarray], columns: tuple[str, ...]) -> Any:
    import pandas as pd

    data = {c: bars[c.lower()] / SCALE for c in columns}
    return pd.DataFrame(data, index=pd.to_datetime(bars["time"], unit="s"))


def vectorbt_row(bars: dict[str, np.ndarray], repeat: int) -> dict[str, Any]:
    import vectorbt as vbt

    def run(close: Any) -> int:
        fast = vbt.MA.run(close, FAST).ma
        slow = vbt.MA.run(close, SLOW).ma
        fast_prev, slow_prev = fast.shift(1), slow.shift(1)
        up = (fast > slow) & (fast_prev <= slow_prev)
        down = (fast < slow) & (fast_prev >= slow_prev)
        portfolio = vbt.Portfolio.from_signals(
            close, entries=up, short_entries=down, size=1.0, init_cash=1e9, fees=0.0, freq="1min"
        )
        return int(portfolio.trades.count())

    close = _frame(bars, ("Close",))["Close"]

    def once() -> tuple[int, tuple[float, float]]:
        clock = Clock()  # the warm-up run holds numba's compilation (seconds)
        trades = run(close)
        return trades, clock.read()

    return {**timed_runs(once, repeat), "first_signal": SLOW}


def backtesting_row(bars: dict[str, np.ndarray], repeat: int) -> dict[str, Any]:
    import pandas as pd
    from backtesting import Backtest, Strategy

    def sma(values: Any, period: int) -> Any:
        return pd.Series(values).rolling(period).mean()

    class SmaReverse(Strategy):
        def init(self) -> None:
            self.fast = self.I(sma, self.data.Close, FAST)
            self.slow = self.I(sma, self.data.Close, SLOW)

        def next(self) -> None:
            f, s = self.fast, self.slow
            if f[-1] > s[-1] and f[-2] <= s[-2] and not self.position.is_long:
                self.position.close()
                self.buy(size=1)
            elif f[-1] < s[-1] and f[-2] >= s[-2] and not self.position.is_short:
                self.position.close()
                self.sell(size=1)

    frame = _frame(bars, ("Open", "High", "Low", "Close"))
    test = Backtest(frame, SmaReverse, cash=1e9, commission=0.0, trade_on_close=True, finalize_trades=True)

    def once() -> tuple[int, tuple[float, float]]:
        clock = Clock()  # Backtest.run builds a fresh broker and strategy over the same data each call
        stats = test.run()
        return int(len(stats["_trades"])), clock.read()

    return {**timed_runs(once, repeat), "first_signal": SLOW}


def nautilus_row(bars: dict[str, np.ndarray], repeat: int) -> dict[str, Any]:
    from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
    from nautilus_trader.config import LoggingConfig, StrategyConfig
    from nautilus_trader.indicators.averages import SimpleMovingAverage
    from nautilus_trader.model.currencies import USD
    from nautilus_trader.model.data import BarType
    from nautilus_trader.model.enums import AccountType, OmsType, OrderSide
    from nautilus_trader.model.identifiers import Venue
    from nautilus_trader.model.objects import Money, Quantity
    from nautilus_trader.persistence.wranglers import BarDataWrangler
    from nautilus_trader.test_kit.providers import TestInstrumentProvider
    from nautilus_trader.trading.strategy import Strategy

    venue = Venue("SIM")
    instrument = TestInstrumentProvider.default_fx_ccy("EUR/USD", venue)
    bar_type = BarType.from_str(f"{instrument.id}-1-MINUTE-LAST-EXTERNAL")
    frame = _frame(bars, ("Open", "High", "Low", "Close"))
    frame.columns = [c.lower() for c in frame.columns]
    frame["volume"] = 1_000_000.0
    frame.index = frame.index + np.timedelta64(60, "s")  # a bar is stamped when it closes
    data = BarDataWrangler(bar_type, instrument).process(frame)

    class Config(StrategyConfig, frozen=True):  # type: ignore[call-arg]
        pass

    class SmaReverse(Strategy):
        def __init__(self) -> None:
            super().__init__(Config())
            self.fast = SimpleMovingAverage(FAST)
            self.slow = SimpleMovingAverage(SLOW)
            self.prev: tuple[float, float] | None = None
            self.side = 0

        def on_reset(self) -> None:  # engine.reset() between runs: the registrations go, the values stay
            self.fast.reset()
            self.slow.reset()
            self.prev, self.side = None, 0

        def on_start(self) -> None:
            self.register_indicator_for_bars(bar_type, self.fast)
            self.register_indicator_for_bars(bar_type, self.slow)
            self.subscribe_bars(bar_type)

        def on_bar(self, bar: Any) -> None:
            if not self.slow.initialized:
                return
            f, s = self.fast.value, self.slow.value
            prev, self.prev = self.prev, (f, s)
            if prev is None:
                return
            if f > s and prev[0] <= prev[1] and self.side != 1:
                self.reverse(OrderSide.BUY, 1)
            elif f < s and prev[0] >= prev[1] and self.side != -1:
                self.reverse(OrderSide.SELL, -1)

        def reverse(self, side: Any, sign: int) -> None:
            for position in self.cache.positions_open(instrument_id=instrument.id):
                self.close_position(position)
            self.submit_order(self.order_factory.market(instrument.id, side, Quantity.from_int(1000)))
            self.side = sign

    engine = BacktestEngine(config=BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True)))
    engine.add_venue(
        venue=venue,
        oms_type=OmsType.HEDGING,
        account_type=AccountType.MARGIN,
        base_currency=USD,
        starting_balances=[Money(1_000_000_000, USD)],
    )
    engine.add_instrument(instrument)
    engine.add_data(data)
    engine.add_strategy(SmaReverse())

    def once() -> tuple[int, tuple[float, float]]:
        engine.reset()  # repeated runs over the same data, as NautilusTrader documents them (untimed)
        clock = Clock()
        engine.run()
        elapsed = clock.read()
        return len(engine.cache.positions()), elapsed

    result = timed_runs(once, repeat)
    engine.dispose()
    return {**result, "first_signal": SLOW}


def backtrader_row(bars: dict[str, np.ndarray], repeat: int) -> dict[str, Any]:
    import backtrader as bt

    frame = _frame(bars, ("Open", "High", "Low", "Close"))
    frame.columns = [c.lower() for c in frame.columns]
    frame["volume"] = 0.0

    class SmaReverse(bt.Strategy):
        def __init__(self) -> None:
            self.fast = bt.ind.SMA(period=FAST)
            self.slow = bt.ind.SMA(period=SLOW)
            self.entries = 0
            self.side = 0

        def next(self) -> None:
            f, s = self.fast, self.slow
            if f[0] > s[0] and f[-1] <= s[-1] and self.side != 1:
                self.order_target_size(target=1)
                self.side, self.entries = 1, self.entries + 1
            elif f[0] < s[0] and f[-1] >= s[-1] and self.side != -1:
                self.order_target_size(target=-1)
                self.side, self.entries = -1, self.entries + 1

    def once() -> tuple[int, tuple[float, float]]:
        cerebro = bt.Cerebro(stdstats=False)  # a fresh Cerebro and feed over the same frame (untimed)
        cerebro.broker.setcash(1e9)
        cerebro.adddata(bt.feeds.PandasData(dataname=frame))
        cerebro.addstrategy(SmaReverse)
        cerebro.addanalyzer(bt.analyzers.TradeAnalyzer, _name="trades")
        clock = Clock()
        strategy = cerebro.run()[0]
        elapsed = clock.read()
        analysis = strategy.analyzers.trades.get_analysis()
        return (int(analysis.get("total", {}).get("total", 0)) if analysis else 0), elapsed

    return {**timed_runs(once, repeat), "first_signal": SLOW}


ROWS: dict[str, Callable[[dict[str, np.ndarray], int], dict[str, Any]]] = {
    "ceiling": ceiling,
    "vectorbt": vectorbt_row,
    "backtesting": backtesting_row,
    "nautilus": nautilus_row,
    "backtrader": backtrader_row,
}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    row, folder = sys.argv[1], Path(sys.argv[2])
    repeat = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    bars = load_bars(folder)
    try:
        result = ROWS[row](bars, repeat)
    except ImportError as e:
        result = {"skipped": f"{e.name or e} is not installed in {sys.prefix}"}
    result["peak_rss_mib"] = peak_rss_mib()
    result["rules"] = RULES[row]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
