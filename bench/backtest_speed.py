"""Backtest throughput: MA crossover on N synthetic M1 bars (default 1,000,000).

Measures, in one run on the same bars: the parity engine (Framework.run per bar + the live translation +
the Python simulated broker), the fast engine (asirikuy_backtest_run: one C call, plus turning its rows into
ClosedTrade tuples), the ceiling (a plain-C SMA(10)/SMA(30) crossover over the whole array in one ctypes
call, compiled here with cc -O2), and backtrader (the same SMA crossover; only when importable) — plus peak
RSS. Like the baselines' inputs (float arrays, DataFrame and feed), the engines' input (MarketData) is built
before their timings; its own row and the "including its input" figure show that cost.

    make -C framework/c
    PYTHONPATH=. DJANGO_SETTINGS_MODULE=asirikuy_site.settings .venv/bin/python bench/backtest_speed.py [bars]

Optimisation scaling (100 passes of the parity engine as Celery tasks, 1 then 2 worker processes; needs the
throw-away PostgreSQL + Redis of scripts/with_services.sh):

    bash scripts/with_services.sh .venv/bin/python bench/backtest_speed.py --optimization [bars per pass]

backtrader lives only in a separate venv:

    python3 -m venv .venv-bench
    .venv-bench/bin/pip install -r requirements.txt -r bench/requirements-backtrader.txt
    PYTHONPATH=. DJANGO_SETTINGS_MODULE=asirikuy_site.settings .venv-bench/bin/python bench/backtest_speed.py
"""

from __future__ import annotations

import ctypes
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import django
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: the project packages, the settings module
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "asirikuy_site.settings")

CEILING_C = r"""
/* SMA(fast)/SMA(slow) crossover over the whole array: long on an up-cross, flat on a down-cross,
 * filled at the next bar's open; returns the number of round trips, P/L through *pnl. */
int sma_cross(const double* open, const double* close, int n, int fast, int slow, double* pnl) {
  double sf = 0, ss = 0, prev = 0, entry = 0, total = 0;
  int pos = 0, trades = 0, pending = 0;
  for (int i = 0; i < n; ++i) {
    if (pending == 1) { pos = 1; entry = open[i]; }
    if (pending == -1) { pos = 0; total += open[i] - entry; ++trades; }
    pending = 0;
    sf += close[i]; ss += close[i];
    if (i >= fast) sf -= close[i - fast];
    if (i >= slow) ss -= close[i - slow];
    if (i < slow - 1) continue;
    double d = sf / fast - ss / slow;
    if (d > 0 && prev <= 0 && !pos) pending = 1;
    if (d < 0 && prev >= 0 && pos) pending = -1;
    if (d != 0) prev = d;
  }
  *pnl = total;
  return trades;
}
"""


class Clock:
    """Wall and process CPU seconds since creation: on a shared machine the CPU seconds show what the code
    costs when other processes take turns on the cores (the wall seconds are the figure of record)."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def ceiling(bars: dict) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        src, lib = Path(tmp) / "c.c", Path(tmp) / "c.so"
        src.write_text(CEILING_C)
        subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
        fn = ctypes.CDLL(str(lib)).sma_cross
        fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
        fn.restype = ctypes.c_int
        o, c = bars["open"] / 1e5, bars["close"] / 1e5
        pnl = np.zeros(1)
        clock = Clock()
        fn(o.ctypes.data, c.ctypes.data, len(c), 10, 30, pnl.ctypes.data)
        return clock.read()


def backtrader_seconds(bars: dict) -> tuple[float, float] | None:
    try:
        import backtrader as bt
    except ImportError:
        return None
    import pandas as pd

    frame = pd.DataFrame(
        {
            "open": bars["open"] / 1e5,
            "high": bars["high"] / 1e5,
            "low": bars["low"] / 1e5,
            "close": bars["close"] / 1e5,
            "volume": 0.0,
        },
        index=pd.to_datetime(bars["time"], unit="s"),
    )

    class Cross(bt.Strategy):
        def __init__(self):
            self.cross = bt.ind.CrossOver(bt.ind.SMA(period=10), bt.ind.SMA(period=30))

        def next(self):
            if self.cross > 0 and not self.position:
                self.buy(size=1)
            elif self.cross < 0 and self.position:
                self.close()

    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=frame))
    cerebro.addstrategy(Cross)
    clock = Clock()
    cerebro.run()
    return clock.read()


def optimization_scaling(bars_per_pass: int) -> None:
    """Time 100 optimisation passes (one Celery task each) with 1 and with 2 worker processes."""
    import os
    import signal
    from datetime import UTC, datetime
    from decimal import Decimal

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from backtests.engine.synthetic import random_walk
    from backtests.models import Optimization, RunStatus
    from backtests.services.optimization import optimization_create, optimization_enqueue
    from framework import MA_CROSSOVER
    from trading.models import Bar, BrokerAccount, Instrument, StrategyInstance
    from trading.queues import Queue

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench", password="bench-pass-123")
    eurusd = Instrument.objects.create(
        symbol="EURUSD",
        broker_symbol="EUR_USD",
        base_currency="EUR",
        quote_currency="USD",
        digits=5,
        pip_location=-4,
        contract_size=Decimal("100000"),
        margin_rate=Decimal("0.02"),
        spread_points=10,
    )
    account = BrokerAccount.objects.create(
        owner=user, name="bench", broker="paper", currency="USD", balance=Decimal("10000"), equity=Decimal("10000")
    )
    walk = random_walk(bars_per_pass, seed=5, t0=1_704_153_600)
    Bar.objects.bulk_create(
        [
            Bar(
                instrument=eurusd,
                timeframe=1,
                time=datetime.fromtimestamp(int(t), tz=UTC),
                open=int(o),
                high=int(h),
                low=int(lo),
                close=int(c),
                volume=1,
            )
            for t, o, h, lo, c in zip(walk["time"], walk["open"], walk["high"], walk["low"], walk["close"], strict=True)
        ],
        batch_size=5000,
    )
    instance = StrategyInstance.objects.create(
        instance_id=7001,
        name="bench",
        account=account,
        instrument=eurusd,
        strategy_id=MA_CROSSOVER,
        timeframe=1,
        max_open_orders=1,
        parameters={"FAST_PERIOD": 10, "SLOW_PERIOD": 30},
        enabled=False,
    )
    space = {"FAST_PERIOD": {"min": 2, "max": 11}, "SLOW_PERIOD": {"min": 20, "max": 65, "step": 5}}
    results = {}
    for processes in (1, 2):
        log = open(f"/tmp/bench-opt-worker-{processes}.log", "w")  # noqa: SIM115 (closed below)
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "asirikuy_site",
                "worker",
                "-P",
                "prefork",
                "-c",
                str(processes),
                "-Q",
                Queue.BACKTESTS,
                "-n",
                f"bench{processes}@%h",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "warning",
            ],
            env={**os.environ},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            time.sleep(5)  # let the pool start (not part of the timing)
            opt = optimization_create(instance=instance, space=space, engine="parity")
            t = time.perf_counter()
            optimization_enqueue(optimization=opt)
            while Optimization.objects.get(pk=opt.pk).status != RunStatus.DONE:
                if worker.poll() is not None:
                    raise SystemExit(f"worker exited; see /tmp/bench-opt-worker-{processes}.log")
                time.sleep(0.2)
            results[processes] = time.perf_counter() - t
            workers = sorted(set(opt.passes.values_list("worker", flat=True)))
            print(
                f"{processes} worker process(es): 100 passes x {bars_per_pass:,} bars in {results[processes]:.2f} s "
                f"({100 / results[processes]:.1f} passes/s) on {workers}"
            )
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
            log.close()
    print(
        f"speed-up 2 vs 1 worker processes: {results[1] / results[2]:.2f}x (ideal 2.00x; "
        f"{os.cpu_count()} CPUs on this machine)"
    )


PY_MA_CROSSOVER = 1100  # strategies/ma_crossover.py
PYTHON_ROW = "parity engine, Python PY_MA_CROSSOVER"


def main() -> None:
    if "--optimization" in sys.argv:
        args = [a for a in sys.argv[1:] if a != "--optimization"]
        optimization_scaling(int(args[0]) if args else 20_000)
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    django.setup()
    from backtests.engine.fast import run_fast
    from backtests.engine.market import Costs
    from backtests.engine.parity import run_parity
    from backtests.engine.synthetic import random_walk, synthetic_market
    from framework import MA_CROSSOVER, StrategySettings, get_framework, get_strategy

    bars = random_walk(n, seed=1, step_points=6)
    params = {"FAST_PERIOD": 10, "SLOW_PERIOD": 30}

    def settings_for(strategy_id: int) -> StrategySettings:
        # MAX_OPEN_ORDERS = 1 (the instance default): the reversal shares the close's result row
        return StrategySettings.for_strategy(
            strategy_id,
            instance_id=9001,
            timeframe=1,
            params=params,
            account_risk_percent=0.01,
            max_open_orders=1,
            order_info_array_size=20,
            is_backtesting=True,
        )

    settings = settings_for(MA_CROSSOVER)
    # the live window for these parameters: the catalog's bars (ATR(14) settled, framework/warmup.py) + the margin
    closed = get_strategy(MA_CROSSOVER).required_bars(params)[0] - 1
    windows = [(1, closed + max(10, closed // 5))]
    costs = Costs(spread_points=0)  # a throughput run: no cost drift, so the account lasts all the bars
    framework = get_framework()  # loading the library and its config is process start-up, not a backtest
    rows: list[tuple[str, int, float, float, int | None]] = []

    # The engines' input is built once, outside their timings, as the baselines' inputs are (the ceiling's
    # float arrays, backtrader's DataFrame and feed); its own row shows what building it costs. Its spread is the
    # one Costs says (synthetic_market would otherwise build the bars with its own 10-point default).
    clock = Clock()
    market = synthetic_market(bars, timeframe=1, windows=windows, spread_points=costs.spread_points or 0)
    rows.append(("input: synthetic_market (bars -> MarketData)", n, *clock.read(), None))

    clock = Clock()
    fast = run_fast(data=market, settings=settings, costs=costs, initial_balance=10_000.0, framework=framework)
    rows.append(("fast engine (C loop)", len(fast.time), *clock.read(), len(fast.trades)))

    clock = Clock()
    parity = run_parity(
        data=market,
        settings=settings,
        costs=costs,
        initial_balance=10_000.0,
        account_currency="USD",
        framework=framework,
    )
    rows.append(("parity engine (c_runStrategy per bar, Runner)", len(parity.time), *clock.read(), len(parity.trades)))
    assert [x.key() for x in parity.trades] == [x.key() for x in fast.trades], "engines disagree"
    assert parity.equity.tolist() == fast.equity.tolist(), "engines' equity curves disagree"

    clock = Clock()
    python = run_parity(
        data=market,
        settings=settings_for(PY_MA_CROSSOVER),
        costs=costs,
        initial_balance=10_000.0,
        account_currency="USD",
        framework=framework,
    )
    rows.append((PYTHON_ROW, len(python.time), *clock.read(), len(python.trades)))
    assert [x.key() for x in python.trades] == [x.key() for x in fast.trades], "the Python port disagrees"

    rows.append(("plain-C SMA cross, one ctypes call (ceiling)", n, *ceiling(bars), None))
    bt = backtrader_seconds(bars)
    if bt is not None:
        rows.append(("backtrader SMA cross (PandasData)", n, *bt, None))

    print(f"{n:,} M1 bars; peak RSS {peak_rss_mib():.0f} MiB")
    print(
        f"{'engine':48s} {'bars':>10s} {'seconds':>9s} {'bars/s':>14s} {'cpu s':>9s} {'bars/cpu s':>14s} {'trades':>7s}"
    )
    for name, count, wall, cpu, trades in rows:
        print(
            f"{name:48s} {count:10,d} {wall:9.3f} {count / wall:14,.0f} {cpu:9.3f} {count / max(cpu, 1e-9):14,.0f} "
            f"{trades if trades is not None else '':>7}"
        )
    for label, seconds in (("wall", {r[0]: r[2] for r in rows}), ("cpu", {r[0]: r[3] for r in rows})):
        speed = {row[0]: row[1] / max(seconds[row[0]], 1e-9) for row in rows}
        fast_speed = speed["fast engine (C loop)"]
        with_input = len(fast.time) / (seconds["fast engine (C loop)"] + seconds[rows[0][0]])
        line = (
            f"[{label}] fast engine including its input: {with_input:,.0f} bars/s; fast / ceiling: "
            f"1/{speed['plain-C SMA cross, one ctypes call (ceiling)'] / fast_speed:.1f}"
        )
        line += f"; Python strategy in the parity engine: {speed[PYTHON_ROW]:,.0f} bars/s"
        if bt is not None:
            baseline = speed["backtrader SMA cross (PandasData)"]
            line += (
                f"; fast / backtrader: {fast_speed / baseline:,.0f}x (including its input: "
                f"{with_input / baseline:,.0f}x); parity / backtrader: "
                f"{speed['parity engine (c_runStrategy per bar, Runner)'] / baseline:,.1f}x; Python parity / "
                f"backtrader: {speed[PYTHON_ROW] / baseline:,.1f}x"
            )
        print(line)


if __name__ == "__main__":
    main()
