"""Optimisation: search spaces from the catalog bounds, passes in batches of tasks, sorted results, applying a pass."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from backtests.models import Optimization, OptimizationPass, RunStatus
from backtests.services.optimization import (
    BarCache,
    OptimizationError,
    batch_size,
    optimization_create,
    optimization_enqueue,
    optimization_pass_apply,
    optimization_pass_run,
    optimization_passes_sorted,
    optimization_points,
)
from backtests.tasks import optimization_batch_task, optimization_pass_task
from framework.catalog import MA_CROSSOVER
from trading.models import StrategyInstance

pytestmark = pytest.mark.django_db
URL = "/api/v1/backtests/optimizations/"


def test_grid_points_are_every_combination_and_integers_stay_integers():
    points = optimization_points(
        strategy_id=MA_CROSSOVER,
        method="grid",
        space={"FAST_PERIOD": {"min": 3, "max": 7, "step": 2}, "SL_ATR_MULTIPLIER": [1.5, 3]},
    )
    assert points == [{"FAST_PERIOD": f, "SL_ATR_MULTIPLIER": s} for f in (3, 5, 7) for s in (1.5, 3.0)]
    assert all(isinstance(p["FAST_PERIOD"], int) for p in points)


def test_random_points_are_seeded_draws_from_the_grid():
    space = {"FAST_PERIOD": {"min": 2, "max": 20}, "SLOW_PERIOD": {"min": 25, "max": 60, "step": 5}}
    a = optimization_points(strategy_id=MA_CROSSOVER, method="random", samples=30, seed=4, space=space)
    b = optimization_points(strategy_id=MA_CROSSOVER, method="random", samples=30, seed=4, space=space)
    assert a == b and len(a) == 30
    assert all(2 <= p["FAST_PERIOD"] <= 20 and p["SLOW_PERIOD"] in range(25, 61, 5) for p in a)


@pytest.mark.parametrize("space", [{"FAST_PERIOD": {"min": 0, "max": 5}}, {"NOPE": [1]}, {"FAST_PERIOD": [2.5]}, {}])
def test_spaces_outside_the_catalog_are_refused(space):
    with pytest.raises(OptimizationError):
        optimization_points(strategy_id=MA_CROSSOVER, method="grid", space=space)


def test_api_creates_passes_queues_one_task_each_and_sorts_the_results(
    alice, ma_instance, django_capture_on_commit_callbacks
):
    client = APIClient()
    client.force_authenticate(alice)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(
            URL,
            {"instance": ma_instance.pk, "space": {"FAST_PERIOD": [3, 5, 8], "SLOW_PERIOD": [20, 30]}},
            format="json",
        )
    assert response.status_code == 201, response.json()
    opt = Optimization.objects.get(pk=response.json()["id"])
    assert opt.passes_total == 6 and opt.status == RunStatus.RUNNING and len(queued) == 1

    for p in opt.passes.all():  # what the queued group runs, one task per pass
        optimization_pass_task.apply(args=[p.pk])

    opt.refresh_from_db()
    assert opt.status == RunStatus.DONE and opt.passes_done == 6
    body = client.get(f"{URL}{opt.pk}/?sort=profit_factor&order=desc").json()
    factors = [p["statistics"]["profit_factor"] for p in body["passes"]]
    assert factors == sorted(factors, reverse=True)
    ascending = [
        p["statistics"]["net_profit"] for p in client.get(f"{URL}{opt.pk}/?sort=net_profit&order=asc").json()["passes"]
    ]
    assert ascending == sorted(ascending) and len(set(ascending)) > 1
    client.force_login(alice)
    assert client.get(f"/backtests/optimizations/{opt.pk}/?sort=total_trades").status_code == 200


def test_a_pass_updates_the_instance_or_creates_a_new_one(alice, ma_instance):
    opt = optimization_create(instance=ma_instance, space={"FAST_PERIOD": [7]})
    optimization_pass_task.apply(args=[opt.passes.get().pk])
    best = optimization_passes_sorted(optimization=opt)[0]

    created = optimization_pass_apply(optimization_pass=best, create=True, name="ma tuned")
    updated = optimization_pass_apply(optimization_pass=best)

    assert created.pk != ma_instance.pk and created.name == "ma tuned" and not created.enabled
    assert created.parameters == {"FAST_PERIOD": 7, "SLOW_PERIOD": 20}
    assert StrategyInstance.objects.get(pk=ma_instance.pk).parameters == {"FAST_PERIOD": 7, "SLOW_PERIOD": 20}
    assert updated.pk == ma_instance.pk


def test_optimisations_are_scoped_to_their_owner(alice, bob, ma_instance):
    opt = optimization_create(instance=ma_instance, space={"FAST_PERIOD": [7]}, owner=alice)
    client = APIClient()
    client.force_authenticate(bob)
    assert client.get(f"{URL}{opt.pk}/").status_code == 404
    pass_id = OptimizationPass.objects.get().pk
    assert client.post(f"{URL}{opt.pk}/passes/{pass_id}/apply/", {"mode": "update"}, format="json").status_code == 404


def test_passes_go_out_in_batches_of_about_sixteen_tasks():
    assert [batch_size(n) for n in (1, 3, 16, 17, 100, 1000, 10_000)] == [1, 1, 1, 2, 7, 50, 50]


def test_enqueue_sends_batches_of_every_pending_pass(ma_instance, django_capture_on_commit_callbacks):
    opt = optimization_create(instance=ma_instance, space={"FAST_PERIOD": list(range(2, 19)), "SLOW_PERIOD": [20, 30]})
    sent: list = []
    with django_capture_on_commit_callbacks(execute=False) as queued:
        optimization_enqueue(optimization=opt)
    assert len(queued) == 1
    # the group the callback would send: one optimization_batch task per batch, every pass once, in index order
    from celery import group

    original = group.apply_async
    try:
        group.apply_async = lambda self, *a, **k: sent.extend(self.tasks)  # type: ignore[method-assign]
        queued[0]()
    finally:
        group.apply_async = original  # type: ignore[method-assign]
    assert {t.name for t in sent} == {"backtests.optimization_batch"} and len(sent) == 12  # 34 passes, 3 a task
    ids = [pk for t in sent for pk in t.args[0]]
    assert ids == list(opt.passes.order_by("index").values_list("pk", flat=True))


def test_a_batch_gives_each_pass_the_statistics_of_its_own_task(ma_instance):
    space = {"FAST_PERIOD": [3, 5, 8], "SLOW_PERIOD": [20, 30]}
    single = optimization_create(instance=ma_instance, space=space)
    for p in single.passes.all():
        optimization_pass_task.apply(args=[p.pk])
    batched = optimization_create(instance=ma_instance, space=space)
    ids = list(batched.passes.order_by("index").values_list("pk", flat=True))
    result = optimization_batch_task.apply(args=[ids]).get()
    assert result["statuses"] == [RunStatus.DONE] * 6
    batched.refresh_from_db()
    assert batched.status == RunStatus.DONE and batched.passes_done == 6
    one = {p.index: p.statistics for p in single.passes.all()}
    many = {p.index: p.statistics for p in batched.passes.all()}
    assert one == many and len({s["net_profit"] for s in many.values()}) > 1


def test_a_batch_loads_the_bars_once_per_window_layout(ma_instance):
    # SLOW_PERIOD 20 and 30 need the same window (the settled ATR(14) sets it); 400 needs a longer one
    opt = optimization_create(instance=ma_instance, space={"SLOW_PERIOD": [20, 30, 400]})
    cache = BarCache()
    passes = list(opt.passes.order_by("index"))
    optimization_pass_run(pass_id=passes[0].pk, cache=cache)
    first = next(iter(cache.entries.values()))
    optimization_pass_run(pass_id=passes[1].pk, cache=cache)
    assert len(cache.entries) == 1 and next(iter(cache.entries.values())) is first
    optimization_pass_run(pass_id=passes[2].pk, cache=cache)
    assert len(cache.entries) == 2
