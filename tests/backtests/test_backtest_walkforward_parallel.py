"""Walk-forward windows searched in parallel Celery tasks: a real worker, redelivery, cancel, progress, dashboard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from backtests.models import Optimization, OptimizationPass, RunStatus, WalkForward
from backtests.services.walkforward import walkforward_create
from backtests.services.walkforward_run import (
    walkforward_cancel,
    walkforward_enqueue,
    walkforward_execute,
    walkforward_plan,
    walkforward_progress,
    walkforward_start,
)
from backtests.tasks import optimization_pass_task, walkforward_pass_task, walkforward_stitch_task
from tests.backtests.test_backtest_walkforward import SPACE, START
from tests.support.polling import wait_until
from tests.support.workers import Workers

WINDOWS = 3
PASSES = WINDOWS * len(SPACE["FAST_PERIOD"])


def _walkforward(instance) -> WalkForward:
    return walkforward_create(
        instance=instance,
        start=START,
        in_sample=timedelta(hours=8),
        out_of_sample=timedelta(hours=4),
        windows=WINDOWS,
        space=SPACE,
    )


def _passes(wf: WalkForward):
    return OptimizationPass.objects.filter(optimization__walk_forward_windows__walk_forward=wf)


@pytest.fixture
def worker(transactional_db, tmp_path):
    """A real Celery worker (two processes) on the backtests queue, on the test database and Redis."""
    workers = Workers(tmp_path)
    started = []

    def start():
        started.append(workers.start("backtests", "-P", "prefork", "-c", "2", "-Q", "backtests"))
        return started[-1]

    yield start
    workers.stop()


@pytest.mark.slow
def test_windows_are_searched_by_worker_tasks_and_stitched_like_a_foreground_run(worker, ma_instance):
    wf = _walkforward(ma_instance)
    with transaction.atomic():
        walkforward_enqueue(walk_forward=wf)  # sent when this commits
    proc = worker()

    wait_until(
        lambda: WalkForward.objects.get(pk=wf.pk).status not in (RunStatus.PENDING, RunStatus.RUNNING),
        timeout=240,
        what="the walk-forward to end",
    )

    wf.refresh_from_db()
    log = proc.log_path.read_text()
    assert wf.status == RunStatus.DONE, (wf.error, log[-3000:])
    assert log.count("backtests.walkforward_pass[") >= PASSES and "backtests.walkforward_stitch[" in log
    assert (wf.windows_optimised, wf.windows_done) == (WINDOWS, WINDOWS)
    assert sorted(_passes(wf).values_list("status", flat=True)) == [RunStatus.DONE] * PASSES
    assert all(
        o.passes_done == o.passes_total == 3 and o.status == RunStatus.DONE
        for o in Optimization.objects.filter(walk_forward_windows__walk_forward=wf)
    )
    progress = walkforward_progress(walk_forward=wf)
    assert (progress.passes_done, progress.passes_total, progress.fraction) == (PASSES, PASSES, 1.0)
    # The same walk-forward run in this process, step by step, gives the same windows and the same stitched run.
    here = walkforward_execute(walk_forward_id=_walkforward(ma_instance).pk)
    assert here.statistics == wf.statistics and here.efficiency == wf.efficiency
    assert [(r.parameters, r.out_of_sample_statistics, r.end_balance) for r in here.window_rows.order_by("index")] == [
        (r.parameters, r.out_of_sample_statistics, r.end_balance) for r in wf.window_rows.order_by("index")
    ]

    # Redelivered tasks (acks_late) run nothing again and count nothing twice.
    first = _passes(wf).order_by("pk").first()
    assert walkforward_pass_task.apply(args=[first.pk]).get() == {"pass_id": first.pk, "last": False}
    walkforward_stitch_task.apply(args=[wf.pk])
    again = WalkForward.objects.get(pk=wf.pk)
    assert (again.windows_optimised, again.windows_done, again.statistics) == (WINDOWS, WINDOWS, wf.statistics)
    assert OptimizationPass.objects.get(pk=first.pk).finished_at == first.finished_at
    assert Optimization.objects.get(pk=first.optimization_id).passes_done == 3


@pytest.mark.slow
def test_cancel_skips_the_queued_passes_and_marks_the_run_cancelled(worker, ma_instance):
    wf = _walkforward(ma_instance)
    assert walkforward_start(walk_forward_id=wf.pk) == PASSES  # every window's passes are now on the queue

    assert walkforward_cancel(walk_forward_id=wf.pk) is True
    proc = worker()
    wait_until(
        lambda: proc.log_path.read_text().count("backtests.walkforward_pass[") >= 2 * PASSES,
        timeout=120,
        what="the queued pass tasks to be consumed",
    )  # received + succeeded lines

    wf.refresh_from_db()
    assert wf.status == RunStatus.CANCELLED and wf.finished_at is not None and wf.windows_optimised == 0
    assert set(_passes(wf).values_list("status", flat=True)) == {RunStatus.CANCELLED}
    assert not _passes(wf).filter(bars_tested__gt=0).exists()  # none was backtested
    assert set(wf.window_rows.values_list("status", flat=True)) == {RunStatus.CANCELLED}
    assert set(
        Optimization.objects.filter(walk_forward_windows__walk_forward=wf).values_list("status", "passes_done")
    ) == {(RunStatus.CANCELLED, 0)}
    assert walkforward_cancel(walk_forward_id=wf.pk) is False


@pytest.mark.django_db
def test_a_redelivered_optimisation_pass_is_counted_once(ma_instance):
    from backtests.services.optimization import optimization_create

    opt = optimization_create(instance=ma_instance, space={"FAST_PERIOD": [3, 5]})
    first, second = opt.passes.order_by("index")

    runs = [optimization_pass_task.apply(args=[p.pk]).get() for p in (first, first, second, second)]

    opt.refresh_from_db()
    assert opt.passes_done == 2 and opt.status == RunStatus.DONE
    assert runs[0] == runs[1] and runs[2] == runs[3]


@pytest.mark.django_db
def test_a_running_pass_cancelled_meanwhile_is_not_counted(ma_instance):
    wf = _walkforward(ma_instance)
    ids = walkforward_plan(walk_forward_id=wf.pk)
    OptimizationPass.objects.filter(pk=ids[0]).update(status=RunStatus.RUNNING)  # a worker is computing it
    walkforward_cancel(walk_forward_id=wf.pk)

    assert walkforward_pass_task.apply(args=[ids[0]]).get()["last"] is False

    p = OptimizationPass.objects.get(pk=ids[0])
    assert p.status == RunStatus.CANCELLED and p.optimization.passes_done == 0


@pytest.mark.django_db
def test_dashboard_and_api_show_progress_and_cancel(alice, bob, ma_instance, client):
    wf = _walkforward(ma_instance)
    ids = walkforward_plan(walk_forward_id=wf.pk)
    for pass_id in ids[:4]:
        walkforward_pass_task.apply(args=[pass_id])
    client.force_login(alice)

    listing = client.get("/backtests/walkforwards/")
    page = client.get(f"/backtests/walkforwards/{wf.pk}/")
    api = APIClient()
    api.force_authenticate(alice)
    detail = api.get(f"/api/v1/backtests/walkforwards/{wf.pk}/").json()

    assert f"/backtests/walkforwards/{wf.pk}/" in listing.text
    assert (
        page.status_code == 200 and f"4/{PASSES} in-sample passes" in page.text and "1/3 windows optimised" in page.text
    )
    assert "Cancel the walk-forward" in page.text
    assert detail["progress"]["passes_done"] == 4 and detail["windows_optimised"] == 1
    assert detail["window_rows"][0]["optimised_at"] is not None and detail["window_rows"][1]["optimised_at"] is None
    bob_api = APIClient()
    bob_api.force_authenticate(bob)
    assert bob_api.post(f"/api/v1/backtests/walkforwards/{wf.pk}/cancel/").status_code == 404

    cancelled = client.post(f"/backtests/walkforwards/{wf.pk}/cancel/", follow=True)

    assert cancelled.status_code == 200 and f"Walk-forward {wf.pk} cancelled." in cancelled.text
    assert "Cancel the walk-forward" not in cancelled.text
    assert WalkForward.objects.get(pk=wf.pk).status == RunStatus.CANCELLED
    assert api.post(f"/api/v1/backtests/walkforwards/{wf.pk}/cancel/").status_code == 400  # already ended


@pytest.mark.django_db
def test_admin_action_cancels_a_running_walkforward(django_user_model, ma_instance, client):
    wf = _walkforward(ma_instance)
    walkforward_plan(walk_forward_id=wf.pk)
    client.force_login(django_user_model.objects.create_superuser("root", password="root-pass-123"))

    response = client.post(
        "/admin/backtests/walkforward/", {"action": "cancel", "_selected_action": [wf.pk]}, follow=True
    )

    assert response.status_code == 200 and f"Cancelled: [{wf.pk}]" in response.text
    assert WalkForward.objects.get(pk=wf.pk).status == RunStatus.CANCELLED
    assert set(_passes(wf).values_list("status", flat=True)) == {RunStatus.CANCELLED}
