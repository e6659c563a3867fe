"""Walk-forward analysis: optimise each window in-sample, test the best pass out-of-sample, stitch the OOS parts.

Rules (README "Walk-forward"):
* Windows. Window k = 0..N-1 has OOS = [start + IS + k*OOS, start + IS + (k+1)*OOS); the step is the OOS
  length, so the OOS parts tile [start + IS, start + IS + N*OOS) without gaps or overlap. Its in-sample part
  ends where its OOS starts and begins at start + k*OOS (rolling: fixed length IS) or at ``start`` (anchored:
  the in-sample part grows by one OOS length per window). Ranges are half-open; the engine gets the last
  second before the end as its inclusive ``end``.
* Selection. The in-sample optimisation (from the initial balance; its passes are ordinary ``Optimization``
  rows linked from the window) is ranked by one statistic; passes without a value for it never win. Its passes
  run as Celery tasks, every window's at once (``walkforward_run``).
* Stitching. Window k's OOS test starts from window k-1's ending balance (the first from the initial balance),
  so position sizing follows the account. ``stitch_curves`` shifts every segment by (previous end - the
  segment's own initial balance), which is 0 for chained runs and keeps each window's money P/L otherwise.
* Annualised return = (final / initial - 1) * year / window length (simple, not compounded: short windows
  do not explode); year = 365.25 days; the length is the window's calendar length, not its bar span.
* Walk-forward efficiency, pooled: mean of the windows' annualised OOS returns / mean of their annualised
  IS returns (None when the mean IS return is <= 0). Each window also stores its own ratio (IS return > 0).
* Parameter stability, per parameter over the windows' chosen values: mean, population standard deviation
  (ddof=0) and coefficient of variation std / |mean| (None when the mean is 0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
from django.db import transaction

from backtests.engine import stats
from backtests.engine.market import Costs
from backtests.models import (
    Engine,
    SearchMethod,
    WalkForward,
    WalkForwardWindow,
    WindowMode,
)
from backtests.services.bounds import balance_validate, costs_validate
from backtests.services.optimization import (
    OptimizationError,
    optimization_points,
)
from backtests.services.runs import CURVE_POINTS
from trading.models import StrategyInstance
from trading.services.quotas import quota_check

MAX_WINDOWS = 200
ONE_SECOND = timedelta(seconds=1)


class WalkForwardError(ValueError):
    """Window settings or a search space that cannot make a walk-forward."""


@dataclass(frozen=True)
class Window:
    index: int
    in_sample_start: datetime
    in_sample_end: datetime
    out_of_sample_start: datetime
    out_of_sample_end: datetime


@dataclass(frozen=True)
class Segment:
    """One OOS curve as its run produced it, starting from its own ``initial`` balance."""

    time: np.ndarray
    balance: np.ndarray
    equity: np.ndarray
    initial: float


@dataclass(frozen=True)
class Stitched:
    time: np.ndarray
    balance: np.ndarray
    equity: np.ndarray
    ends: list[float]  # stitched ending balance of each segment


def walkforward_windows(
    *, start: datetime, in_sample: timedelta, out_of_sample: timedelta, windows: int, mode: str = WindowMode.ROLLING
) -> list[Window]:
    """The windows of a walk-forward (rule in the module docstring)."""
    if in_sample <= timedelta(0) or out_of_sample <= timedelta(0):
        raise WalkForwardError("the in-sample and out-of-sample lengths must be positive")
    if not 1 <= windows <= MAX_WINDOWS:
        raise WalkForwardError(f"need 1..{MAX_WINDOWS} windows (was {windows})")
    out = []
    for k in range(windows):
        oos_start = start + in_sample + k * out_of_sample
        is_start = start if mode == WindowMode.ANCHORED else start + k * out_of_sample
        out.append(Window(k, is_start, oos_start, oos_start, oos_start + out_of_sample))
    return out


def annualised_return(initial: float, final: float, length: timedelta) -> float | None:
    """(final / initial - 1) * year / length; None for no length or no initial balance."""
    seconds = length.total_seconds()
    if seconds <= 0 or initial <= 0:
        return None
    return (final / initial - 1.0) * stats.YEAR_SECONDS / seconds


def walkforward_efficiency(in_sample_returns: Sequence[float], out_of_sample_returns: Sequence[float]) -> float | None:
    """Pooled efficiency: mean annualised OOS return / mean annualised IS return (None if the IS mean <= 0)."""
    if not in_sample_returns or len(in_sample_returns) != len(out_of_sample_returns):
        return None
    is_mean = float(np.mean(in_sample_returns))
    return float(np.mean(out_of_sample_returns)) / is_mean if is_mean > 0 else None


def parameter_stability(parameter_sets: Sequence[dict[str, float]]) -> dict[str, dict[str, float | None]]:
    """Per parameter over the windows: mean, population std (ddof=0), cv = std / |mean| (None when mean is 0)."""
    names = sorted({name for p in parameter_sets for name in p})
    out: dict[str, dict[str, float | None]] = {}
    for name in names:
        values = np.asarray([float(p[name]) for p in parameter_sets if name in p], dtype=np.float64)
        mean = float(values.mean())
        std = float(values.std(ddof=0))
        out[name] = {"mean": mean, "std": std, "cv": std / abs(mean) if mean != 0 else None}
    return out


def stitch_curves(segments: Sequence[Segment], initial: float) -> Stitched:
    """Chain OOS curves: segment k is shifted so it starts at segment k-1's stitched ending balance."""
    times, balances, equities, ends = [], [], [], []
    level = initial
    for s in segments:
        shift = level - s.initial
        times.append(np.asarray(s.time, dtype=np.int64))
        balances.append(np.asarray(s.balance, dtype=np.float64) + shift)
        equities.append(np.asarray(s.equity, dtype=np.float64) + shift)
        level = float(balances[-1][-1]) if len(s.balance) else level
        ends.append(level)
    if not segments:
        return Stitched(np.zeros(0, np.int64), np.zeros(0), np.zeros(0), [])
    return Stitched(np.concatenate(times), np.concatenate(balances), np.concatenate(equities), ends)


def curve_downsample(time: np.ndarray, balance: np.ndarray, equity: np.ndarray) -> dict:
    n = len(time)
    index = np.unique(np.linspace(0, n - 1, min(n, CURVE_POINTS)).astype(np.int64)) if n else np.zeros(0, np.int64)
    return {
        "time": [int(t) for t in time[index]],
        "balance": [round(float(v), 2) for v in balance[index]],
        "equity": [round(float(v), 2) for v in equity[index]],
    }


@transaction.atomic
def walkforward_create(
    *,
    instance: StrategyInstance,
    start: datetime,
    in_sample: timedelta,
    out_of_sample: timedelta,
    windows: int,
    space: dict,
    mode: str = WindowMode.ROLLING,
    method: str = SearchMethod.GRID,
    samples: int = 0,
    seed: int = 0,
    select_by: str = "net_profit",
    select_descending: bool = True,
    costs: Costs | None = None,
    initial_balance: Decimal = Decimal("10000"),
    engine: str = Engine.FAST,
    owner=None,
) -> WalkForward:
    """Record a walk-forward and its pending windows (nothing runs: see walkforward_run)."""
    planned = walkforward_windows(
        start=start, in_sample=in_sample, out_of_sample=out_of_sample, windows=windows, mode=mode
    )
    try:
        points = optimization_points(
            strategy_id=instance.strategy_id, space=space, method=method, samples=samples, seed=seed
        )
    except OptimizationError as e:
        raise WalkForwardError(str(e)) from e
    quota_check(user=owner, quota="backtests")
    quota_check(user=owner, quota="optimization_passes", adding=len(points) * len(planned))
    costs_validate(costs or Costs())
    balance_validate(initial_balance)
    if select_by not in stats.MT_NAMES:
        raise WalkForwardError(f"unknown statistic {select_by}")
    wf = WalkForward(
        instance=instance,
        owner=owner,
        mode=mode,
        start=start,
        in_sample=in_sample,
        out_of_sample=out_of_sample,
        windows=windows,
        method=method,
        space=space,
        samples=samples,
        seed=seed,
        select_by=select_by,
        select_descending=select_descending,
        engine=engine,
        strategy_id=instance.strategy_id,
        symbol=instance.instrument.symbol,
        timeframe=instance.timeframe,
        base_parameters=instance.parameters or {},
        initial_balance=initial_balance,
        account_currency=instance.account.currency,
        costs=(costs or Costs()).as_json(),
    )
    wf.full_clean()
    wf.save()
    WalkForwardWindow.objects.bulk_create(
        [
            WalkForwardWindow(
                walk_forward=wf,
                index=w.index,
                in_sample_start=w.in_sample_start,
                in_sample_end=w.in_sample_end,
                out_of_sample_start=w.out_of_sample_start,
                out_of_sample_end=w.out_of_sample_end,
            )
            for w in planned
        ]
    )
    return wf


def balance_cents(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal("0.01"))


def json_safe_nested(values: dict) -> dict:
    return {k: {n: (None if v is None or not math.isfinite(v) else v) for n, v in d.items()} for k, d in values.items()}
