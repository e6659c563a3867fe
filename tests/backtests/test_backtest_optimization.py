"""Optimisation: search spaces from the catalog bounds, one task per pass, sorted results, applying a pass."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from backtests.models import Optimization, OptimizationPass, RunStatus
from backtests.services.optimization import (
    OptimizationError,
    optimization_create,
    optimization_pass_apply,
    optimization_passes_sorted,
    optimization_points,
)
from backtests.tasks import optimization_pass_task
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
