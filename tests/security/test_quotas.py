"""Per-user quotas: each cap is answered with a 400 naming the quota, through the API and the admin alike."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backtests.models import BacktestRun, Optimization
from framework import MA_CROSSOVER
from tests.support.builders import T0, make_instance
from trading.models import BrokerAccount, StrategyInstance


def _quota_of(response):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["extra"]["quota"] in body["message"]
    return body["extra"]["quota"]


def test_account_quota_is_a_400_naming_it(alice_api, alice, settings):
    settings.QUOTA_ACCOUNTS = 1
    first = alice_api.post("/api/v1/accounts/", {"name": "one"}, format="json")

    second = alice_api.post("/api/v1/accounts/", {"name": "two"}, format="json")

    assert first.status_code == 201
    assert _quota_of(second) == "accounts"
    assert "ASIRIKUY_QUOTA_ACCOUNTS" in second.json()["message"]
    assert BrokerAccount.objects.filter(owner=alice).count() == 1


def test_instance_quota_counts_the_account_owners_instances(alice_api, paper_account, eurusd, settings):
    settings.QUOTA_INSTANCES = 2
    make_instance(paper_account, eurusd)
    make_instance(paper_account, eurusd)
    payload = {
        "account": paper_account.pk,
        "instrument": "EURUSD",
        "strategy_id": MA_CROSSOVER,
        "name": "x",
        "timeframe": 60,
    }

    response = alice_api.post("/api/v1/instances/", payload, format="json")

    assert _quota_of(response) == "instances"
    assert StrategyInstance.objects.count() == 2


def test_other_users_are_not_held_by_one_users_quota(bob_api, bob, paper_account, eurusd, settings):
    settings.QUOTA_INSTANCES = 1
    make_instance(paper_account, eurusd)
    bobs = BrokerAccount.objects.create(owner=bob, name="Bob", broker="paper", currency="USD")
    payload = {"account": bobs.pk, "instrument": "EURUSD", "strategy_id": MA_CROSSOVER, "name": "x", "timeframe": 60}

    response = bob_api.post("/api/v1/instances/", payload, format="json")

    assert response.status_code == 201, response.content


def test_concurrent_backtest_quota_counts_pending_and_running_runs(alice_api, alice, instance, settings):
    settings.QUOTA_BACKTESTS = 1
    BacktestRun.objects.create(
        instance=instance, owner=alice, strategy_id=MA_CROSSOVER, symbol="EURUSD", timeframe=60, status="running"
    )

    response = alice_api.post("/api/v1/backtests/", {"instance": instance.pk}, format="json")

    assert _quota_of(response) == "backtests"
    assert BacktestRun.objects.count() == 1


def test_finished_backtests_do_not_count(alice_api, alice, instance, settings):
    settings.QUOTA_BACKTESTS = 1
    BacktestRun.objects.create(
        instance=instance, owner=alice, strategy_id=MA_CROSSOVER, symbol="EURUSD", timeframe=60, status="done"
    )

    response = alice_api.post("/api/v1/backtests/", {"instance": instance.pk}, format="json")

    assert response.status_code == 201, response.content


def test_optimisation_pass_quota_counts_the_new_passes(alice_api, instance, settings):
    settings.QUOTA_OPTIMIZATION_PASSES = 10
    space = {"FAST_PERIOD": {"min": 2, "max": 20, "step": 1}}

    response = alice_api.post(
        "/api/v1/backtests/optimizations/", {"instance": instance.pk, "space": space}, format="json"
    )

    assert _quota_of(response) == "optimization_passes"
    assert Optimization.objects.count() == 0


def test_walkforward_counts_the_passes_of_every_window(alice_api, instance, settings):
    settings.QUOTA_OPTIMIZATION_PASSES = 10
    payload = {
        "instance": instance.pk,
        "space": {"FAST_PERIOD": [3, 4, 5]},
        "start": T0.isoformat(),
        "in_sample": str(timedelta(days=30).days) + " 00:00:00",
        "out_of_sample": "10 00:00:00",
        "windows": 4,
    }

    response = alice_api.post("/api/v1/backtests/walkforwards/", payload, format="json")

    assert _quota_of(response) == "optimization_passes"


@pytest.mark.parametrize("cap", [0])
def test_zero_means_no_cap(alice_api, cap, settings):
    settings.QUOTA_ACCOUNTS = cap
    responses = [alice_api.post("/api/v1/accounts/", {"name": f"a{k}"}, format="json") for k in range(3)]

    assert [r.status_code for r in responses] == [201, 201, 201]
