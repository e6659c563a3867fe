"""Backtest throughput against the peers, on the same bars and the same rules, in one run.

N synthetic M1 bars from 1995 (default 1,000,000; a random walk whose bars open at the previous close, seed 1, steps of
up to 6 points), one strategy: SMA(10)/SMA(30) stop-and-reverse — a cross up (fast > slow now, fast <= slow on
the bar before) closes any short and goes long, a cross down the mirror image; market fills at the close, zero
spread, no costs. Ours: MA_CROSSOVER with SL/TP multipliers 0 (no stops: the peers have none), MAX_OPEN_ORDERS 1
(the reversal shares the close's result row), the live window of the catalog (354 closed bars, warm-up rule),
spread 0 in both the Costs and the bars. Rows, one engine at a time, each in its own process (so its peak
memory is its own), every row timed the same way (peers.timed_runs): set-up untimed, one warm-up run on the
same bars in the same process (not counted; its time is printed as "cold s": numba's compilation, the first
touch of fresh pages), then the median of the timed runs: at least --repeat, and for rows of milliseconds as many
as fill a second (at most 200; the count is printed as "runs"):

  ours   fast engine (asirikuy_backtest_run: the C loop, strategy kernels with incremental indicators),
         parity engine (c_runStrategy per bar, live translation, Python simulated broker),
         the Python port PY_MA_CROSSOVER in the parity engine, and building their input (MarketData);
  peers  plain-C SMA crossover (the ceiling), vectorbt, backtesting.py, NautilusTrader, backtrader
         (bench/peers.py; each from its optional venv, skipped with a note when missing).

Every row prints bars/s, the ratio of each of our engines to it, its trade count next to the exact count of
integer arithmetic (the SMA sums in points compared without rounding, from the row's first signal bar) and its
peak RSS; then the targets of issue 20 and what each peer's rules differ in. The three runs of ours must give
the same trades (a digest of every trade).

    make -C framework/c
    python3.11 -m venv .venv-bench && .venv-bench/bin/pip install -r bench/requirements-peers.txt
    python3.11 -m venv .venv-bench-nautilus && .venv-bench-nautilus/bin/pip install -r bench/requirements-nautilus.txt
    .venv/bin/python bench/backtest_speed.py [bars] [--repeat 3]
    .venv/bin/python bench/backtest_speed.py --scale [10000000]      # both engines, peak memory
    bash scripts/with_services.sh .venv/bin/python bench/backtest_speed.py --optimization [1000] [100000]

ASIRIKUY_BENCH_PEERS_PYTHON / ASIRIKUY_BENCH_NAUTILUS_PYTHON name other interpreters for the peers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: the project packages, the settings module
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "asirikuy_site.settings")

from bench_ours import OURS  # noqa: E402 (after the path set-up)
from peers import FAST, MAX_RUNS, MIN_TIMED_SECONDS, RULES, SLOW  # noqa: E402

PEERS_PYTHON = Path(os.environ.get("ASIRIKUY_BENCH_PEERS_PYTHON", ROOT / ".venv-bench" / "bin" / "python"))
NAUTILUS_PYTHON = Path(
    os.environ.get("ASIRIKUY_BENCH_NAUTILUS_PYTHON", ROOT / ".venv-bench-nautilus" / "bin" / "python")
)
LABELS = {
    "input": "input: synthetic_market (bars -> MarketData)",
    "fast": "fast engine (C loop, incremental kernels)",
    "parity": "parity engine (c_runStrategy per bar)",
    "python": "parity engine, Python PY_MA_CROSSOVER",
    "ceiling": "plain-C SMA reversal (ceiling)",
    "vectorbt": "vectorbt 1.2 (numba, vectorised)",
    "backtesting": "backtesting.py 0.6.6 (event-driven)",
    "nautilus": "NautilusTrader 1.221 (Rust core)",
    "backtrader": "backtrader 1.9.78 (event-driven)",
}
PEER_ROWS = ("ceiling", "vectorbt", "backtesting", "nautilus", "backtrader")


def random_bars(n: int) -> dict[str, np.ndarray]:
    import django

    django.setup()
    from backtests.engine.synthetic import random_walk

    # from 1995-01-01: 10,000,000 M1 bars (19 years) end before the ABI's int32 time limit in 2038
    return random_walk(n, seed=1, step_points=6, t0=788_918_400)


def reference_trades(close: np.ndarray, first_signal: int) -> int:
    """Positions the rules open from bar ``first_signal`` on, with exact integer SMA comparisons: fast > slow
    exactly when sum_fast * SLOW > sum_slow * FAST (sums of closes in points)."""
    sums = np.concatenate([[0], np.cumsum(close.astype(np.int64))])
    index = np.arange(SLOW - 1, len(close))
    fast = sums[index + 1] - sums[index + 1 - FAST]
    slow = sums[index + 1] - sums[index + 1 - SLOW]
    sign = np.sign(fast * SLOW - slow * FAST)  # sign[k]: bar index[k]
    up = (sign[1:] > 0) & (sign[:-1] <= 0)
    down = (sign[1:] < 0) & (sign[:-1] >= 0)
    bars = index[1:]
    keep = bars >= first_signal
    direction = np.where(up, 1, np.where(down, -1, 0))[keep]
    events = direction[direction != 0]
    if not len(events):
        return 0
    return int(1 + np.count_nonzero(events[1:] != events[:-1]))


def _child(command: list[str]) -> dict[str, Any]:
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"skipped": f"failed (exit {done.returncode}): {' | '.join(tail)}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def run_row(row: str, folder: Path, repeat: int, warmup: bool = True) -> dict[str, Any]:
    """One row in its own process: (warm-up run,) ``repeat`` timed runs, as peers.timed_runs times them."""
    if row in OURS:
        script = [str(ROOT / "bench" / "bench_ours.py"), row, str(folder), str(repeat), str(int(warmup))]
        return _child([sys.executable, *script])
    python = {"ceiling": Path(sys.executable), "nautilus": NAUTILUS_PYTHON}.get(row, PEERS_PYTHON)
    if not python.exists():
        venv = "bench/requirements-nautilus.txt" if row == "nautilus" else "bench/requirements-peers.txt"
        return {"skipped": f"no interpreter at {python} (install {venv} into its venv)", "rules": RULES[row]}
    return _child([str(python), str(ROOT / "bench" / "peers.py"), row, str(folder), str(repeat)])


def compare(n: int, repeat: int, only: list[str] | None = None) -> None:
    bars = random_bars(n)
    load = os.getloadavg()
    rows = tuple(r for r in ("fast", "parity", "python", *PEER_ROWS) if not only or r in only)
    results: dict[str, dict[str, Any]] = {}
    notes: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, values in bars.items():
            np.save(folder / f"{name}.npy", values)
        for row in rows:  # one process per row: its warm-up and its timed runs back to back
            result = run_row(row, folder, repeat)
            if "skipped" in result:
                notes[row] = result["skipped"]
            else:
                results[row] = result
    ours_digests = {results[row]["digest"] for row in OURS if row in results}
    if len(ours_digests) > 1:
        raise SystemExit(f"our engines disagree on the trades: {len(ours_digests)} different digests")

    speed: dict[str, float] = {}
    table: list[tuple[str, dict[str, Any], int]] = []
    if "fast" in results:
        table.append(("input", {"seconds": results["fast"]["input_seconds"], "cpu": 0.0}, n))
    for row in rows:
        if row not in results:
            continue
        med = results[row]
        counted = n - int(med["first_signal"]) if row in OURS else n
        speed[row] = counted / float(med["seconds"])
        table.append((row, med, counted))

    print(
        f"{n:,} M1 bars, SMA({FAST})/SMA({SLOW}) stop-and-reverse, zero spread, no costs; one engine at a time, "
        f"each in its own process; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start, "
        f"{os.getloadavg()[0]:.2f} at the end, on {os.cpu_count()} CPUs"
    )
    print(
        f"Timing, the same for every row: set-up untimed; one warm-up run on the same bars in the same process, "
        f"not counted (its time: 'cold s'); then the median ('seconds', bars/s, ratios) of the timed runs "
        f"('runs': at least {repeat}, more until they fill {MIN_TIMED_SECONDS:g} s, at most {MAX_RUNS})"
    )
    ours = [r for r in ("fast", "parity", "python") if r in speed]
    lines = _rows(bars["close"], table, speed, ours, n)
    header = [
        "row",
        "bars/s",
        "seconds",
        "cold s",
        "runs",
        "bars/CPU-s",
        *(f"{r} x" for r in ours),
        "trades",
        "exact",
        "diff",
        "peak MiB",
    ]
    widths = [46, 13, 8, 8, 4, 13, *([9] * len(ours)), 7, 7, 5, 9]
    print(" ".join(f"{h:{'<' if i == 0 else '>'}{w}s}" for i, (h, w) in enumerate(zip(header, widths, strict=True))))
    for cells, note in lines:
        text = " ".join(
            f"{c:{'<' if i == 0 else '>'}{w}s}" for i, (c, w) in enumerate(zip(cells, widths, strict=False))
        )
        print(text + (f"  ({note})" if note else ""))
    for row, note in notes.items():
        print(f"{LABELS[row]:46s} skipped: {note}")
    print("(x: our engine's bars/s over the row's; cold s: the warm-up run, the first in the process, not counted;")
    print(" exact: positions the rules open with integer SMA comparisons, from the row's first signal bar: ours")
    print(" after the 354-bar live window, the peers from bar 30)")
    _targets(speed, table, n)
    print("What each row's rules differ in:")
    for row in rows:
        if row in results:
            print(f"  {row}: {results[row].get('rules', '')}")
    if "fast" in results:
        print(f"  same trades in our rows: digest {sorted(ours_digests)[0][:16]}")
    print("\nThe table as Markdown (README):")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for cells, note in lines:
        cells = cells + [""] * (len(header) - len(cells))
        print("| " + " | ".join(cells[:1] + cells[1:]) + " |" + (f" {note}" if note else ""))


def _rows(
    close: np.ndarray, table: list[tuple[str, dict[str, Any], int]], speed: dict[str, float], ours: list[str], n: int
) -> list[tuple[list[str], str]]:
    """Each row's cells (label, bars/s, seconds, cold seconds, timed runs, bars per CPU-second, ratios, trades,
    exact, diff, peak) and note."""
    lines: list[tuple[list[str], str]] = []
    for row, med, counted in table:
        if row == "input":
            lines.append(([LABELS[row], f"{n / med['seconds']:,.0f}", f"{med['seconds']:.4f}"], ""))
            continue
        exact = reference_trades(close, int(med["first_signal"]))
        cells = [LABELS[row], f"{speed[row]:,.0f}", f"{med['seconds']:.4f}", f"{med['cold_seconds']:.4f}"]
        cells.append(f"{len(med['runs'])}")
        cells += [f"{counted / max(med['cpu'], 1e-9):,.0f}", *(f"{speed[r] / speed[row]:.2f}" for r in ours)]
        cells += [f"{med['trades']:d}", f"{exact:d}", f"{med['trades'] - exact:+d}", f"{med['peak_rss_mib']:.0f}"]
        note = "the warm-up run holds numba's compilation" if row == "vectorbt" else ""
        lines.append((cells, note))
    return lines


def _targets(speed: dict[str, float], table: list[tuple[str, dict[str, Any], int]], n: int) -> None:
    """The goals of issue 20 on wall-clock bars/s (the figures of record), and the same ratios on CPU seconds,
    which stay meaningful when other processes share the cores."""
    med = {row: m for row, m, _ in table}
    cpu = {row: c / max(float(med[row]["cpu"]), 1e-9) for row, m, c in table if row != "input"}

    def check(label: str, a: str, b: str, goal: str, ok: Callable[[float], bool]) -> None:
        if a not in speed or b not in speed:
            print(f"  {label}: n/a (row skipped) (goal {goal})")
            return
        wall, on_cpu = speed[a] / speed[b], cpu[a] / cpu[b]
        print(f"  {label}: {wall:.2f} (goal {goal}) {'ok' if ok(wall) else 'MISSED'}; on CPU seconds {on_cpu:.2f}")

    print("Targets (issue 20), from this run:")
    check("fast / vectorbt", "fast", "vectorbt", ">= 3", lambda r: r >= 3)
    check("ceiling / fast", "ceiling", "fast", "<= 5", lambda r: r <= 5)
    check("parity / backtesting.py", "parity", "backtesting", ">= 1.5", lambda r: r >= 1.5)
    if "fast" in med and "ceiling" in med:
        cold = (float(med["fast"]["cold_seconds"]) / (n - int(med["fast"]["first_signal"]))) / (
            float(med["ceiling"]["cold_seconds"]) / n
        )
        print(f"  ceiling / fast on the cold first runs (not the figure of record): {cold:.2f}")
    if "fast" in med and "input" in med:
        with_input = (n - int(med["fast"]["first_signal"])) / (med["fast"]["seconds"] + med["input"]["seconds"])
        print(f"  fast engine including its input (MarketData): {with_input:,.0f} bars/s")


def scale(n: int) -> None:
    """Both engines on n bars (default 10,000,000), each in its own process: seconds and peak memory of one
    call each, the first in its process (no warm-up: the memory is the figure here)."""
    bars = random_bars(n)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, values in bars.items():
            np.save(folder / f"{name}.npy", values)
        del bars
        results = {row: run_row(row, folder, 1, warmup=False) for row in ("fast", "parity")}
    print(f"{n:,} M1 bars, the same rules; each engine in its own process, one cold call (peak RSS: the process)")
    for row, result in results.items():
        if "skipped" in result:
            print(f"{LABELS[row]:46s} failed: {result['skipped']}")
            continue
        tested = n - int(result["first_signal"])
        peak = float(result["peak_rss_mib"])
        print(
            f"{LABELS[row]:46s} {tested / result['seconds']:13,.0f} bars/s {result['seconds']:8.1f} s "
            f"{result['trades']:8,d} trades  peak RSS {peak:6.0f} MiB ({'within' if peak < 2048 else 'OVER'} 2 GiB)"
        )
    digests = {r.get("digest") for r in results.values()}
    print(f"same trades and equity curve in both engines: {len(digests) == 1 and None not in digests}")


def main() -> None:
    args = sys.argv[1:]
    if "--optimization" in args:
        from bench_optimization import optimization_throughput

        rest = [int(a) for a in args if a != "--optimization"]
        optimization_throughput(*rest)
        return
    repeat = 3
    if "--repeat" in args:
        at = args.index("--repeat")
        repeat = int(args[at + 1])
        del args[at : at + 2]
    only = None
    if "--rows" in args:  # a subset, e.g. --rows fast,parity,vectorbt (the full table is the figure of record)
        at = args.index("--rows")
        only = args[at + 1].split(",")
        del args[at : at + 2]
    if "--scale" in args:
        rest = [int(a) for a in args if a != "--scale"]
        scale(rest[0] if rest else 10_000_000)
        return
    compare(int(args[0]) if args else 1_000_000, repeat, only)


if __name__ == "__main__":
    main()
