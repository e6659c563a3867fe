"""Walk-forward analysis: optimise each window in-sample, test the best pass out-of-sample, stitch the OOS parts.

Rules (README "Walk-forward"):
* Windows. Window k = 0..N-1 has OOS = [start + IS + k*OOS, start + IS + (k+1)*OOS); the step is the OOS
  length, so the OOS parts tile [start + IS, start + IS + N*OOS) without gaps or overlap. Its in-sample part
  ends where its OOS starts and begins at start + k*OOS (rolling: fixed length IS) or at ``start`` (anchored:
  the in-sample part grows by one OOS length per window). Ranges are half-open; the engine gets the last
  second before the end as its inclusive ``end``.
* Selection. The in-sample optimisation (from the initial balance; its passes are ordinary ``Optimization``
  rows linked from the window) runs ``optimization_create`` + ``optimization_pass_execute``, one pass
  at a time inside the walk-forward task, and is ranked by one statistic; passes without a value for it never win.
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
from django.utils import timezone

from backtests.engine import stats
from backtests.engine.market import Costs
from backtests.models import (
    Engine,
    RunStatus,
    SearchMethod,
    WalkForward,
    WalkForwardWindow,
    WindowMode,
)
from backtests.services.data import instance_with_parameters
from backtests.services.optimization import (
    OptimizationError,
    optimization_create,
    optimization_pass_execute,
    optimization_passes_sorted,
    optimization_points,
)
from backtests.services.runs import CURVE_POINTS, _json_safe, engine_run
from trading.models import StrategyInstance

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


def walkforward_windows(*, start: datetime, in_sample: timedelta, out_of_sample: timedelta, windows: int,
                        mode: str = WindowMode.ROLLING) -> list[Window]:
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


def _downsample(time: np.ndarray, balance: np.ndarray, equity: np.ndarray) -> dict:
    n = len(time)
    index = np.unique(np.linspace(0, n - 1, min(n, CURVE_POINTS)).astype(np.int64)) if n else np.zeros(0, np.int64)
    return {"time": [int(t) for t in time[index]], "balance": [round(float(v), 2) for v in balance[index]],
            "equity": [round(float(v), 2) for v in equity[index]]}


@transaction.atomic
def walkforward_create(
    *, instance: StrategyInstance, start: datetime, in_sample: timedelta, out_of_sample: timedelta, windows: int,
    space: dict, mode: str = WindowMode.ROLLING, method: str = SearchMethod.GRID, samples: int = 0, seed: int = 0,
    select_by: str = "net_profit", select_descending: bool = True, costs: Costs | None = None,
    initial_balance: Decimal = Decimal("10000"), engine: str = Engine.FAST, owner=None,
) -> WalkForward:
    """Record a walk-forward and its pending windows (nothing runs: see walkforward_execute / _enqueue)."""
    planned = walkforward_windows(start=start, in_sample=in_sample, out_of_sample=out_of_sample, windows=windows,
                                  mode=mode)
    try:
        optimization_points(strategy_id=instance.strategy_id, space=space, method=method, samples=samples, seed=seed)
    except OptimizationError as e:
        raise WalkForwardError(str(e)) from e
    if select_by not in stats.MT_NAMES:
        raise WalkForwardError(f"unknown statistic {select_by}")
    wf = WalkForward(
        instance=instance, owner=owner, mode=mode, start=start, in_sample=in_sample, out_of_sample=out_of_sample,
        windows=windows, method=method, space=space, samples=samples, seed=seed, select_by=select_by,
        select_descending=select_descending, engine=engine, strategy_id=instance.strategy_id,
        symbol=instance.instrument.symbol, timeframe=instance.timeframe, base_parameters=instance.parameters or {},
        initial_balance=initial_balance, account_currency=instance.account.currency,
        costs=(costs or Costs()).as_json(),
    )
    wf.full_clean()
    wf.save()
    WalkForwardWindow.objects.bulk_create([
        WalkForwardWindow(walk_forward=wf, index=w.index, in_sample_start=w.in_sample_start,
                          in_sample_end=w.in_sample_end, out_of_sample_start=w.out_of_sample_start,
                          out_of_sample_end=w.out_of_sample_end) for w in planned])
    return wf


def walkforward_enqueue(*, walk_forward: WalkForward) -> WalkForward:
    """Queue the walk-forward task once the current transaction commits; its task id is stored on the row."""
    from uuid import uuid4

    from backtests.tasks import walkforward_task

    task_id = str(uuid4())
    WalkForward.objects.filter(pk=walk_forward.pk).update(task_id=task_id)
    walk_forward.task_id = task_id
    transaction.on_commit(lambda: walkforward_task.apply_async(args=[walk_forward.pk], task_id=task_id))
    return walk_forward


def _window_run(wf: WalkForward, row: WalkForwardWindow, balance: float) -> tuple[Segment, object]:
    """Optimise ``row`` in-sample, store the best pass, run it out-of-sample from ``balance``."""
    instance = wf.instance
    opt = optimization_create(
        instance=instance, space=wf.space, method=wf.method, samples=wf.samples, seed=wf.seed,
        start=row.in_sample_start, end=row.in_sample_end - ONE_SECOND, costs=Costs(**wf.costs),
        initial_balance=wf.initial_balance, engine=wf.engine, owner=wf.owner,
    )
    for pass_id in opt.passes.order_by("index").values_list("pk", flat=True):
        optimization_pass_execute(pass_id=pass_id)
    ranked = optimization_passes_sorted(optimization=opt, key=wf.select_by, descending=wf.select_descending)
    best = ranked[0] if ranked else None
    if best is None or not isinstance((best.statistics or {}).get(wf.select_by), int | float):
        errors = "; ".join(sorted({p.error for p in ranked if p.error}))[:500]
        raise WalkForwardError(f"window {row.index}: no in-sample pass has {wf.select_by} ({errors or 'no trades'})")
    output = engine_run(
        instance=instance_with_parameters(instance, best.parameters), start=row.out_of_sample_start,
        end=row.out_of_sample_end - ONE_SECOND, costs=Costs(**wf.costs), initial_balance=balance,
        engine=wf.engine, account_currency=wf.account_currency,
    )
    result = output.result
    final = float(result.balance[-1]) if len(result.balance) else balance
    is_stats = best.statistics
    is_return = annualised_return(float(is_stats["initial_balance"]), float(is_stats["final_balance"]),
                                  row.in_sample_end - row.in_sample_start)
    oos_return = annualised_return(balance, final, row.out_of_sample_end - row.out_of_sample_start)
    WalkForwardWindow.objects.filter(pk=row.pk).update(
        status=RunStatus.DONE, optimization=opt, parameters=best.parameters, in_sample_statistics=is_stats,
        out_of_sample_statistics=_json_safe(output.statistics), in_sample_return=is_return,
        out_of_sample_return=oos_return,
        efficiency=oos_return / is_return if is_return and is_return > 0 and oos_return is not None else None,
        start_balance=_cents(balance), end_balance=_cents(final), error="",
    )
    return Segment(result.time, result.balance, result.equity, balance), result


def _cents(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal("0.01"))


def walkforward_execute(*, walk_forward_id: int) -> WalkForward:
    """Run every window in order, then store the stitched OOS curve and statistics, efficiency and stability."""
    wf = WalkForward.objects.select_related("instance__instrument", "instance__account").get(pk=walk_forward_id)
    WalkForward.objects.filter(pk=wf.pk).update(status=RunStatus.RUNNING, started_at=timezone.now(), error="",
                                                windows_done=0)
    balance = float(wf.initial_balance)
    segments, results = [], []
    try:
        if wf.instance is None:
            raise WalkForwardError("the instance of this walk-forward was deleted")
        for row in wf.window_rows.order_by("index"):
            try:
                segment, result = _window_run(wf, row, balance)
            except Exception as e:
                WalkForwardWindow.objects.filter(pk=row.pk).update(status=RunStatus.FAILED,
                                                                   error=f"{type(e).__name__}: {e}")
                raise
            segments.append(segment)
            results.append(result)
            balance = float(segment.balance[-1]) if len(segment.balance) else balance
            WalkForward.objects.filter(pk=wf.pk).update(windows_done=row.index + 1)
    except Exception as e:  # recorded on the walk-forward; the caller (task, command) reports it
        WalkForward.objects.filter(pk=wf.pk).update(status=RunStatus.FAILED, error=f"{type(e).__name__}: {e}",
                                                    finished_at=timezone.now())
        raise
    _store(wf, segments, results)
    wf.refresh_from_db()
    return wf


def _store(wf: WalkForward, segments: list[Segment], results: list) -> None:
    stitched = stitch_curves(segments, float(wf.initial_balance))
    trades = sorted((t for r in results for t in r.trades), key=lambda t: (t.close_time, t.ticket))
    in_market = np.concatenate([r.in_market for r in results]) if results else np.zeros(0, bool)
    oos_statistics = stats.compute(
        profits=[t.profit for t in trades], sides=[t.side for t in trades], time=stitched.time,
        balance=stitched.balance, equity=stitched.equity, in_market=in_market, initial=float(wf.initial_balance),
        start_time=int(wf.start.timestamp() + wf.in_sample.total_seconds()),
    )
    rows = list(wf.window_rows.order_by("index"))
    WalkForward.objects.filter(pk=wf.pk).update(
        status=RunStatus.DONE, statistics=_json_safe(oos_statistics),
        curve=_downsample(stitched.time, stitched.balance, stitched.equity),
        efficiency=walkforward_efficiency([r.in_sample_return or 0.0 for r in rows],
                                          [r.out_of_sample_return or 0.0 for r in rows]),
        parameter_stability=_json_safe_nested(parameter_stability([r.parameters for r in rows])),
        finished_at=timezone.now(),
    )


def _json_safe_nested(values: dict) -> dict:
    return {k: {n: (None if v is None or not math.isfinite(v) else v) for n, v in d.items()} for k, d in values.items()}

