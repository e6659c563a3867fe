"""Magic numbers: a user's choice never makes another user's automatic id overflow or fail."""

from __future__ import annotations

from framework import MA_CROSSOVER
from tests.support.builders import make_instance
from trading.models import BrokerAccount, StrategyInstance
from trading.models.instances import AUTO_INSTANCE_ID_MAX, INT32_MAX


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


def test_instance_id_int32_max_chosen_by_one_user_leaves_others_automatic_ids_working(
    alice_api, bob_api, paper_account, bob, eurusd
):
    bobs = BrokerAccount.objects.create(owner=bob, name="Bob paper", broker="paper", currency="USD")

    taken = _create(alice_api, paper_account, instance_id=INT32_MAX)
    first = _create(bob_api, bobs)
    second = _create(bob_api, bobs)

    assert taken.status_code == 201, taken.content
    assert first.status_code == 201, first.content
    assert second.status_code == 201, second.content
    ids = [first.json()["instance_id"], second.json()["instance_id"]]
    assert ids[0] != ids[1]
    assert all(1 <= i <= AUTO_INSTANCE_ID_MAX for i in ids), ids


def test_automatic_range_topped_by_a_chosen_id_falls_back_to_the_lowest_free_number(paper_account, eurusd):
    make_instance(paper_account, eurusd, instance_id=1)
    make_instance(paper_account, eurusd, instance_id=2)
    make_instance(paper_account, eurusd, instance_id=4)
    make_instance(paper_account, eurusd, instance_id=AUTO_INSTANCE_ID_MAX)

    created = [make_instance(paper_account, eurusd).pk for _ in range(2)]

    assert created == [3, 5]


def test_instance_id_above_int32_is_refused_naming_the_field(alice_api, paper_account, eurusd):
    response = _create(alice_api, paper_account, instance_id=INT32_MAX + 1)

    assert response.status_code == 400
    assert "instance_id" in response.json()["extra"]["fields"]
    assert StrategyInstance.objects.count() == 0


def test_taken_magic_number_is_refused_without_naming_its_owner(alice_api, bob_api, bob, instance, eurusd):
    bobs = BrokerAccount.objects.create(owner=bob, name="Bob paper", broker="paper", currency="USD")

    response = _create(bob_api, bobs, instance_id=instance.pk)

    assert response.status_code == 400
    message = response.json()["extra"]["fields"]["instance_id"][0]
    assert "not available" in message
    assert "alice" not in message.lower() and instance.account.name not in message
