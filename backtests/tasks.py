"""Celery tasks of the backtester: runs, optimisation passes, walk-forwards, drift reports (ids in, services work)."""

from __future__ import annotations

from typing import TypedDict

from celery import shared_task


class _Limits(TypedDict):
    soft_time_limit: int
    time_limit: int


# A backtest of a million bars takes seconds (fast) to minutes (parity): far above the 60 s default.
LONG: _Limits = {"soft_time_limit": 6 * 3600, "time_limit": 6 * 3600 + 60}
PROGRESS_STEP = 0.01


@shared_task(bind=True, name="backtests.run", **LONG)
def backtest_run_task(self, run_id: int) -> dict:
    """Execute a stored BacktestRun; progress goes to its row and to the task state (Flower shows it)."""
    from backtests.services.runs import backtest_run_execute, backtest_run_progress

    last = [0.0]

    def progress(fraction: float) -> None:
        if fraction - last[0] < PROGRESS_STEP and fraction < 1.0:
            return
        last[0] = fraction
        backtest_run_progress(run_id=run_id, fraction=fraction)
        if self.request.id and not self.request.is_eager:
            self.update_state(state="PROGRESS", meta={"run_id": run_id, "progress": round(fraction, 4)})

    run = backtest_run_execute(run_id=run_id, progress=progress)
    return {"run_id": run.pk, "status": run.status, "net_profit": run.statistics.get("net_profit")}


@shared_task(bind=True, name="backtests.optimization_pass", **LONG)
def optimization_pass_task(self, pass_id: int) -> dict:
    """Backtest one optimisation pass (one task per pass, so passes spread over every worker)."""
    from backtests.services.optimization import optimization_pass_execute

    p = optimization_pass_execute(pass_id=pass_id)
    return {"pass_id": p.pk, "status": p.status, "net_profit": p.statistics.get("net_profit")}


@shared_task(bind=True, name="backtests.optimization_batch", **LONG)
def optimization_batch_task(self, pass_ids: list[int]) -> dict:
    """Backtest a batch of optimisation passes in this task (the bars loaded once per window layout)."""
    from backtests.services.optimization import optimization_batch_execute

    passes = optimization_batch_execute(pass_ids=pass_ids)
    return {"pass_ids": [p.pk for p in passes], "statuses": [p.status for p in passes]}


@shared_task(bind=True, name="backtests.walkforward", **LONG)
def walkforward_task(self, walk_forward_id: int) -> dict:
    """Start a stored walk-forward: create each window's search and send one task per pass of every window."""
    from backtests.services.walkforward_run import walkforward_start

    return {"walk_forward_id": walk_forward_id, "passes_queued": walkforward_start(walk_forward_id=walk_forward_id)}


@shared_task(bind=True, name="backtests.walkforward_pass", **LONG)
def walkforward_pass_task(self, pass_id: int) -> dict:
    """One in-sample pass of a walk-forward window; the last one of the last window queues the stitch."""
    from backtests.services.walkforward_run import walkforward_pass_execute

    return {"pass_id": pass_id, "last": walkforward_pass_execute(pass_id=pass_id)}


@shared_task(bind=True, name="backtests.walkforward_stitch", **LONG)
def walkforward_stitch_task(self, walk_forward_id: int) -> dict:
    """Test every window out-of-sample in order and store the stitched results."""
    from backtests.services.walkforward_run import walkforward_stitch

    wf = walkforward_stitch(walk_forward_id=walk_forward_id)
    return {"walk_forward_id": wf.pk, "status": wf.status, "efficiency": wf.efficiency}


@shared_task(bind=True, name="backtests.drift_report", **LONG)
def drift_report_task(self, report_id: int) -> dict:
    """Replay a stored drift report's period and compare it with what the instance did live."""
    from backtests.services.drift import drift_report_execute

    report = drift_report_execute(report_id=report_id)
    return {"report_id": report.pk, "status": report.status, "verdict": report.verdict}
