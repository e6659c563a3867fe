"""Running a walk-forward: every window's in-sample passes as Celery tasks, then the chained out-of-sample tests.

Flow (README "Walk-forward"):
1. ``walkforward_start`` (task ``backtests.walkforward``) creates each window's ``Optimization`` and sends one
   ``backtests.walkforward_pass`` task per pass of every window as one group, so all windows' passes spread over
   every worker process at once.
2. Each pass task runs ``optimization_pass_run``; the call that closes a window's optimisation picks the best
   pass and marks the window optimised (``optimised_at``, a conditional update) while holding the walk-forward
   row (``select_for_update``); the transaction that sees the last window optimised queues the stitch task.
   Redelivered tasks neither run a finished pass again nor count a pass or a window twice.
3. ``walkforward_stitch`` (task ``backtests.walkforward_stitch``) runs the out-of-sample tests in window order,
   each from the previous ending balance (one backtest per window: cheap next to the searches), and stores the
   stitched results. It is idempotent: it only writes while the walk-forward is still running.
``walkforward_cancel`` marks the walk-forward, its unfinished windows, optimisations and passes cancelled; queued
pass tasks then find nothing to claim, and a pass already computing has its result discarded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from backtests.engine import stats
from backtests.engine.market import Costs
from backtests.models import Optimization, OptimizationPass, RunStatus, WalkForward, WalkForwardWindow
from backtests.services.artifacts import TrainingError, artifact_train
from backtests.services.data import instance_with_parameters
from backtests.services.optimization import (
    OPEN_STATUSES,
    optimization_create,
    optimization_pass_run,
    optimization_passes_sorted,
)
from backtests.services.queueing import job_enqueue
from backtests.services.runs import _json_safe, engine_run
from backtests.services.walkforward import (
    ONE_SECOND,
    Segment,
    WalkForwardError,
    annualised_return,
    balance_cents,
    curve_downsample,
    json_safe_nested,
    parameter_stability,
    stitch_curves,
    walkforward_efficiency,
)
from framework.pystrategy.registry import python_strategy_class


def is_trainable(strategy_id: int) -> bool:
    """True for a Python strategy with a ``train`` method (a model per walk-forward window)."""
    cls = python_strategy_class(strategy_id)
    return cls is not None and callable(getattr(cls, "train", None))


@dataclass(frozen=True)
class Progress:
    passes_done: int
    passes_total: int
    windows_optimised: int
    windows_done: int
    windows: int

    @property
    def fraction(self) -> float:
        """Passes count for 90 %, the out-of-sample tests for the rest."""
        searched = self.passes_done / self.passes_total if self.passes_total else 0.0
        tested = self.windows_done / self.windows if self.windows else 0.0
        return round(0.9 * searched + 0.1 * tested, 4)


def walkforward_progress(*, walk_forward: WalkForward) -> Progress:
    totals = Optimization.objects.filter(walk_forward_windows__walk_forward=walk_forward).aggregate(
        done=Sum("passes_done"), total=Sum("passes_total")
    )
    return Progress(
        totals["done"] or 0,
        totals["total"] or 0,
        walk_forward.windows_optimised,
        walk_forward.windows_done,
        walk_forward.windows,
    )


def walkforward_enqueue(*, walk_forward: WalkForward) -> WalkForward:
    """Queue the walk-forward's start task once the current transaction commits; its id is stored on the row."""
    from backtests.tasks import walkforward_task

    return job_enqueue(job=walk_forward, task=walkforward_task)


@transaction.atomic
def walkforward_plan(*, walk_forward_id: int) -> list[int]:
    """Mark the walk-forward running and give every window its optimisation; returns the passes still to run.

    A second call (a redelivered start task) creates nothing new; a finished or cancelled walk-forward gets no passes.
    """
    wf = (
        WalkForward.objects.select_for_update(of=("self",))
        .select_related("instance__instrument", "instance__account")
        .get(pk=walk_forward_id)
    )
    if wf.status not in OPEN_STATUSES:
        return []
    if wf.instance is None:
        _fail(wf.pk, "the instance of this walk-forward was deleted")
        return []
    if wf.status == RunStatus.PENDING:
        WalkForward.objects.filter(pk=wf.pk).update(status=RunStatus.RUNNING, started_at=timezone.now(), error="")
    for row in wf.window_rows.filter(optimization__isnull=True):
        instance = wf.instance
        if is_trainable(wf.instance.strategy_id):
            # one model per window, trained on the in-sample bars alone; its passes and its OOS test use it
            try:
                model = artifact_train(instance=wf.instance, start=row.in_sample_start, end=row.in_sample_end)
            except TrainingError as e:
                _fail(wf.pk, f"window {row.index}: {e}")
                return []
            WalkForwardWindow.objects.filter(pk=row.pk).update(model=model)
            instance = instance_with_parameters(wf.instance, {"MODEL_ID": model.pk})
        opt = optimization_create(
            instance=instance,
            space=wf.space,
            method=wf.method,
            samples=wf.samples,
            seed=wf.seed,
            start=row.in_sample_start,
            end=row.in_sample_end - ONE_SECOND,
            costs=Costs(**wf.costs),
            initial_balance=wf.initial_balance,
            engine=wf.engine,
            owner=wf.owner,
            enforce_quota=False,
        )
        WalkForwardWindow.objects.filter(pk=row.pk).update(optimization=opt)
    optimizations = Optimization.objects.filter(walk_forward_windows__walk_forward=wf)
    optimizations.filter(status=RunStatus.PENDING).update(status=RunStatus.RUNNING)
    return list(
        OptimizationPass.objects.filter(optimization__in=optimizations, status__in=OPEN_STATUSES)
        .order_by("optimization_id", "index")
        .values_list("pk", flat=True)
    )


def walkforward_start(*, walk_forward_id: int) -> int:
    """Plan the walk-forward and send one task per pass of every window (after commit); returns how many."""
    from celery import group

    from backtests.tasks import walkforward_pass_task

    with transaction.atomic():
        ids = walkforward_plan(walk_forward_id=walk_forward_id)
        if ids:
            transaction.on_commit(lambda: group(walkforward_pass_task.s(pk) for pk in ids).apply_async())
    return len(ids)


def walkforward_pass_execute(*, pass_id: int, enqueue_stitch: bool = True) -> bool:
    """Run one in-sample pass; True when it completed the last window's search.

    Then the stitch task is queued in the same transaction (``enqueue_stitch``) or left to the caller.
    """
    p, closed = optimization_pass_run(pass_id=pass_id)
    if not closed:
        return False
    return walkforward_window_optimised(optimization_id=p.optimization_id, enqueue_stitch=enqueue_stitch)


def _best(wf: WalkForward, opt: Optimization) -> OptimizationPass:
    ranked = optimization_passes_sorted(optimization=opt, key=wf.select_by, descending=wf.select_descending)
    best = ranked[0] if ranked else None
    if best is None or not isinstance((best.statistics or {}).get(wf.select_by), int | float):
        errors = "; ".join(sorted({p.error for p in ranked if p.error}))[:500]
        raise WalkForwardError(f"no in-sample pass has {wf.select_by} ({errors or 'no trades'})")
    return best


def walkforward_window_optimised(*, optimization_id: int, enqueue_stitch: bool = True) -> bool:
    """Record the best pass of a finished window search; True when this made every window optimised.

    The walk-forward row is locked, and the window is marked with a conditional update, so of all the calls
    (redeliveries included) exactly one sees the last window optimised.
    """
    row = WalkForwardWindow.objects.filter(optimization_id=optimization_id).select_related("optimization").first()
    if row is None:  # a plain optimisation, not part of a walk-forward
        return False
    with transaction.atomic():
        wf = WalkForward.objects.select_for_update().get(pk=row.walk_forward_id)
        if wf.status != RunStatus.RUNNING:
            return False
        assert row.optimization is not None  # found by its optimization id above
        try:
            best = _best(wf, row.optimization)
        except WalkForwardError as e:
            message = f"window {row.index}: {e}"
            if WalkForwardWindow.objects.filter(pk=row.pk, optimised_at__isnull=True).update(
                status=RunStatus.FAILED, optimised_at=timezone.now(), error=message
            ):
                _stop(wf, RunStatus.FAILED, f"WalkForwardError: {message}")
            return False
        is_return = annualised_return(
            float(best.statistics["initial_balance"]),
            float(best.statistics["final_balance"]),
            row.in_sample_end - row.in_sample_start,
        )
        marked = WalkForwardWindow.objects.filter(pk=row.pk, optimised_at__isnull=True).update(
            optimised_at=timezone.now(),
            parameters=best.parameters,
            in_sample_statistics=best.statistics,
            in_sample_return=is_return,
            status=RunStatus.RUNNING,
            error="",
        )
        if not marked:
            return False
        optimised = wf.window_rows.filter(optimised_at__isnull=False).count()
        WalkForward.objects.filter(pk=wf.pk).update(windows_optimised=optimised)
        if optimised != wf.windows:
            return False
        if enqueue_stitch:
            from backtests.tasks import walkforward_stitch_task

            transaction.on_commit(lambda: walkforward_stitch_task.delay(wf.pk))
        return True


def _stop(wf: WalkForward, status: str, error: str) -> None:
    """End a walk-forward (failed or cancelled): its unfinished windows, searches and passes stop with it."""
    now = timezone.now()
    WalkForward.objects.filter(pk=wf.pk, status__in=OPEN_STATUSES).update(status=status, error=error, finished_at=now)
    optimizations = Optimization.objects.filter(walk_forward_windows__walk_forward=wf, status__in=OPEN_STATUSES)
    OptimizationPass.objects.filter(optimization__in=optimizations, status__in=OPEN_STATUSES).update(
        status=RunStatus.CANCELLED, finished_at=now
    )
    optimizations.update(status=RunStatus.CANCELLED, finished_at=now)
    wf.window_rows.filter(status__in=OPEN_STATUSES).update(status=RunStatus.CANCELLED)


def _fail(walk_forward_id: int, error: str) -> None:
    WalkForward.objects.filter(pk=walk_forward_id, status__in=OPEN_STATUSES).update(
        status=RunStatus.FAILED, error=error, finished_at=timezone.now()
    )


@transaction.atomic
def walkforward_cancel(*, walk_forward_id: int) -> bool:
    """Cancel a pending or running walk-forward; False when it had already ended."""
    wf = WalkForward.objects.select_for_update().get(pk=walk_forward_id)
    if wf.status not in OPEN_STATUSES:
        return False
    _stop(wf, RunStatus.CANCELLED, "cancelled")
    return True


def _window_test(wf: WalkForward, row: WalkForwardWindow, balance: float) -> tuple[Segment, object]:
    """Test ``row``'s chosen parameters out-of-sample from ``balance`` and store the window's results."""
    if wf.instance is None:
        raise WalkForwardError("the instance of this walk-forward was deleted")
    parameters = dict(row.parameters)
    if row.model_id is not None:
        parameters["MODEL_ID"] = row.model_id  # the window's own model, trained before its OOS range
    output = engine_run(
        instance=instance_with_parameters(wf.instance, parameters),
        start=row.out_of_sample_start,
        end=row.out_of_sample_end - ONE_SECOND,
        costs=Costs(**wf.costs),
        initial_balance=balance,
        engine=wf.engine,
        account_currency=wf.account_currency,
    )
    result = output.result
    final = float(result.balance[-1]) if len(result.balance) else balance
    oos_return = annualised_return(balance, final, row.out_of_sample_end - row.out_of_sample_start)
    is_return = row.in_sample_return
    WalkForwardWindow.objects.filter(pk=row.pk).update(
        status=RunStatus.DONE,
        out_of_sample_statistics=_json_safe(output.statistics),
        out_of_sample_return=oos_return,
        efficiency=oos_return / is_return if is_return and is_return > 0 and oos_return is not None else None,
        start_balance=balance_cents(balance),
        end_balance=balance_cents(final),
        error="",
    )
    return Segment(result.time, result.balance, result.equity, balance), result


def walkforward_stitch(*, walk_forward_id: int) -> WalkForward:
    """Test every window out-of-sample in order (chained balances), then store the stitched results."""
    wf = WalkForward.objects.select_related("instance__instrument", "instance__account").get(pk=walk_forward_id)
    if wf.status != RunStatus.RUNNING or wf.window_rows.filter(optimised_at__isnull=True).exists():
        return wf
    balance = float(wf.initial_balance)
    segments, results = [], []
    for row in wf.window_rows.order_by("index"):
        if WalkForward.objects.filter(pk=wf.pk, status=RunStatus.RUNNING).count() == 0:  # cancelled meanwhile
            return WalkForward.objects.get(pk=wf.pk)
        try:
            segment, result = _window_test(wf, row, balance)
        except Exception as e:
            WalkForwardWindow.objects.filter(pk=row.pk).update(
                status=RunStatus.FAILED, error=f"{type(e).__name__}: {e}"
            )
            _fail(wf.pk, f"window {row.index}: {type(e).__name__}: {e}")
            raise WalkForwardError(f"window {row.index}: {e}") from e
        segments.append(segment)
        results.append(result)
        balance = float(segment.balance[-1]) if len(segment.balance) else balance
        WalkForward.objects.filter(pk=wf.pk).update(windows_done=row.index + 1)
    _store(wf, segments, results)
    return WalkForward.objects.get(pk=wf.pk)


def _store(wf: WalkForward, segments: list[Segment], results: list) -> None:
    stitched = stitch_curves(segments, float(wf.initial_balance))
    trades = sorted((t for r in results for t in r.trades), key=lambda t: (t.close_time, t.ticket))
    in_market = np.concatenate([r.in_market for r in results]) if results else np.zeros(0, bool)
    oos_statistics = stats.compute(
        profits=[t.profit for t in trades],
        sides=[t.side for t in trades],
        time=stitched.time,
        balance=stitched.balance,
        equity=stitched.equity,
        in_market=in_market,
        initial=float(wf.initial_balance),
        start_time=int(wf.start.timestamp() + wf.in_sample.total_seconds()),
    )
    rows = list(wf.window_rows.order_by("index"))
    WalkForward.objects.filter(pk=wf.pk, status=RunStatus.RUNNING).update(
        status=RunStatus.DONE,
        statistics=_json_safe(oos_statistics),
        curve=curve_downsample(stitched.time, stitched.balance, stitched.equity),
        efficiency=walkforward_efficiency(
            [r.in_sample_return or 0.0 for r in rows], [r.out_of_sample_return or 0.0 for r in rows]
        ),
        parameter_stability=json_safe_nested(parameter_stability([r.parameters for r in rows])),
        finished_at=timezone.now(),
    )


def walkforward_execute(*, walk_forward_id: int) -> WalkForward:
    """Run a walk-forward in this process (the command): the same steps as the tasks, one after another."""
    ready = False
    for pass_id in walkforward_plan(walk_forward_id=walk_forward_id):
        ready = walkforward_pass_execute(pass_id=pass_id, enqueue_stitch=False) or ready
    wf = WalkForward.objects.get(pk=walk_forward_id)
    if ready:
        wf = walkforward_stitch(walk_forward_id=walk_forward_id)
    if wf.status != RunStatus.DONE:
        raise WalkForwardError(wf.error or f"walk-forward {wf.pk} ended {wf.status}")
    return wf
