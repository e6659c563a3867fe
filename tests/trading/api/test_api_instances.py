from __future__ import annotations

import pytest

from framework import MA_CROSSOVER
from tests.support.builders import make_execution
from trading.models import BrokerAccount, StrategyInstance


def _create(client, account, **overrides):
    payload = {
        "account": account.pk,
        "instrument": "EURUSD",
        "strategy_id": MA_CROSSOVER,
        "name": "MA",
        "timeframe": 60,
    }
    payload.update(overrides)
    return client.post("/api/v1/instances/", payload, format="json")


def test_instance_create_valid_settings_is_saved_and_scheduled(alice_api, paper_account, eurusd):
    response = _create(alice_api, paper_account, parameters={"FAST_PERIOD": 5, "SLOW_PERIOD": 20})

    assert response.status_code == 201, response.content
    body = response.json()
    instance = StrategyInstance.objects.get(pk=body["instance_id"])
    assert instance.parameters == {"FAST_PERIOD": 5, "SLOW_PERIOD": 20}
    assert instance.periodic_task is not None
    assert body["instrument"] == "EURUSD"
    assert body["last_run_at"] is None


@pytest.mark.parametrize(
    ("overrides", "field", "named"),
    [
        ({"strategy_id": 999}, "strategy_id", "999"),
        ({"timeframe": 7}, "timeframe", "7"),
        ({"timeframe": "hourly"}, "timeframe", "'hourly'"),
        ({"parameters": {"FAST_PERIOD": 0}}, "parameters", "FAST_PERIOD=0"),
        ({"parameters": {"NOT_A_PARAM": 1}}, "parameters", "'NOT_A_PARAM'"),
        ({"rates_slots": [{"symbol": "EURUSD", "timeframe": 7, "bars": 100}]}, "rates_slots", "timeframe 7"),
        ({"rates_slots": [{"symbol": "EURUSD", "timeframe": 60, "bars": 0}]}, "rates_slots", "bars 0"),
        ({"instrument": "XXXYYY"}, "instrument", "XXXYYY"),
        ({"operational_mode": 9}, "operational_mode", "9"),
    ],
)
def test_instance_create_bad_settings_are_refused_naming_field_and_value(
    alice_api, paper_account, eurusd, overrides, field, named
):
    response = _create(alice_api, paper_account, **overrides)

    assert response.status_code == 400, response.content
    messages = response.json()["extra"]["fields"][field]
    assert any(named in m for m in messages), messages
    assert StrategyInstance.objects.count() == 0


def test_instance_create_on_another_users_account_is_refused(bob_api, paper_account, eurusd):
    response = _create(bob_api, paper_account)

    assert response.status_code == 400
    assert str(paper_account.pk) in response.json()["extra"]["fields"]["account"][0]
    assert StrategyInstance.objects.count() == 0


def test_instance_create_with_taken_magic_number_is_refused(alice_api, paper_account, eurusd, instance):
    response = _create(alice_api, paper_account, instance_id=instance.pk)

    assert response.status_code == 400
    assert str(instance.pk) in response.json()["extra"]["fields"]["instance_id"][0]
    assert StrategyInstance.objects.count() == 1


def test_instance_patch_with_bad_timeframe_changes_nothing(alice_api, instance):
    response = alice_api.patch(f"/api/v1/instances/{instance.pk}/", {"name": "renamed", "timeframe": 7}, format="json")

    assert response.status_code == 400
    assert "7" in response.json()["extra"]["fields"]["timeframe"][0]
    instance.refresh_from_db()
    assert (instance.name, instance.timeframe) == ("MA cross", 60)


def test_instance_patch_with_param_out_of_bounds_names_it(alice_api, instance):
    response = alice_api.patch(
        f"/api/v1/instances/{instance.pk}/", {"parameters": {"SLOW_PERIOD": 5000}}, format="json"
    )

    assert response.status_code == 400
    assert "SLOW_PERIOD=5000" in response.json()["extra"]["fields"]["parameters"][0]


def test_instance_patch_valid_fields_are_saved(alice_api, instance):
    response = alice_api.patch(
        f"/api/v1/instances/{instance.pk}/", {"timeframe": 240, "risk_percent": "0.5"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["timeframe"] == 240
    assert response.json()["risk_percent"] == "0.500"
    instance.refresh_from_db()
    assert instance.timeframe == 240


def test_instance_disable_and_enable(alice_api, instance):
    disabled = alice_api.post(f"/api/v1/instances/{instance.pk}/disable/")
    instance.refresh_from_db()
    was_enabled = instance.enabled
    enabled = alice_api.post(f"/api/v1/instances/{instance.pk}/enable/")
    instance.refresh_from_db()

    assert disabled.status_code == 200 and disabled.json()["enabled"] is False
    assert was_enabled is False
    assert enabled.status_code == 200 and enabled.json()["enabled"] is True
    assert instance.enabled is True


def test_instance_run_now_queues_a_task(alice_api, instance):
    response = alice_api.post(f"/api/v1/instances/{instance.pk}/run/")

    assert response.status_code == 202, response.content
    assert response.json()["task_id"]


def test_instance_shows_its_last_run_and_keeps_the_last_error_visible(alice_api, instance):
    make_execution(instance, hours=0, status="failed", error="not enough rates data")
    make_execution(instance, hours=1, status="success")

    body = alice_api.get(f"/api/v1/instances/{instance.pk}/").json()

    assert body["last_status"] == "success"
    assert body["last_bar_time"] == "2024-03-04T11:00:00Z"
    assert body["last_error"] == "not enough rates data"
    assert body["last_error_at"] == "2024-03-04T11:00:00Z"


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("patch", ""), ("post", "enable/"), ("post", "disable/"), ("post", "run/")],
)
def test_instance_of_another_user_is_not_found(bob_api, instance, method, suffix):
    response = getattr(bob_api, method)(f"/api/v1/instances/{instance.pk}/{suffix}", {"name": "x"}, format="json")

    assert response.status_code == 404
    instance.refresh_from_db()
    assert instance.name == "MA cross" and instance.enabled is True


def test_instance_list_shows_only_the_callers_instances(alice_api, bob_api, bob, instance, eurusd):
    from tests.support.builders import make_instance

    bob_account = BrokerAccount.objects.create(owner=bob, name="Bob paper")
    make_instance(bob_account, eurusd, name="Bob MA")

    alice_names = [i["name"] for i in alice_api.get("/api/v1/instances/").json()["results"]]
    bob_names = [i["name"] for i in bob_api.get("/api/v1/instances/").json()["results"]]

    assert alice_names == ["MA cross"]
    assert bob_names == ["Bob MA"]
