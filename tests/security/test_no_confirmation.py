"""Error messages never confirm another user's objects: what exists elsewhere reads as what does not exist."""

from __future__ import annotations

import pytest

from tests.support.builders import TOKEN, make_instance
from trading.models import BrokerAccount

OANDA_ID = "101-004-1234567-001"


@pytest.fixture
def oanda_practice(settings):
    from tests.support.fake_oanda import FakeOanda
    from trading.venues.oanda.client import oanda_clients_reset

    fake = FakeOanda.start(token=TOKEN, account_id=OANDA_ID)
    settings.OANDA_PRACTICE_URL = settings.OANDA_PRACTICE_STREAM_URL = fake.url
    oanda_clients_reset()
    yield fake
    oanda_clients_reset()
    fake.stop()


def test_another_users_broker_account_id_is_not_confirmed_without_its_token(bob_api, alice, oanda_practice):
    BrokerAccount.objects.create(owner=alice, name="Alice live", broker="oanda", broker_account_id=OANDA_ID)
    payload = {"name": "probe", "broker": "oanda", "broker_account_id": OANDA_ID, "token": "not-the-token-1234"}
    unused = {**payload, "broker_account_id": "101-004-7654321-001"}

    taken = bob_api.post("/api/v1/accounts/", payload, format="json")
    free = bob_api.post("/api/v1/accounts/", unused, format="json")

    assert taken.status_code == free.status_code == 400
    assert "already" not in taken.content.decode()
    assert set(taken.json()["extra"]["fields"]) == set(free.json()["extra"]["fields"]) == {"token"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/instances/{instance}/"),
        ("patch", "/api/v1/instances/{instance}/"),
        ("post", "/api/v1/instances/{instance}/run/"),
        ("post", "/api/v1/risk/instances/{instance}/pause/"),
        ("get", "/api/v1/accounts/{account}/"),
        ("get", "/api/v1/risk/market-hours/{account}/"),
        ("post", "/api/v1/accounts/{account}/reconcile/"),
    ],
)
def test_another_users_ids_answer_exactly_as_missing_ids(bob_api, paper_account, eurusd, method, path):
    instance = make_instance(paper_account, eurusd)
    theirs = path.format(instance=instance.pk, account=paper_account.pk)
    missing = path.format(instance=2_000_000_000, account=2_000_000_000)

    a = getattr(bob_api, method)(theirs, {}, format="json")
    b = getattr(bob_api, method)(missing, {}, format="json")

    assert a.status_code == b.status_code == 404
    assert a.json() == b.json()


@pytest.mark.parametrize(
    ("url", "field"),
    [("/api/v1/backtests/", "instance"), ("/api/v1/risk/limits/", "instance")],
)
def test_another_users_instance_in_a_body_reads_as_a_missing_one(bob_api, bob, paper_account, eurusd, url, field):
    instance = make_instance(paper_account, eurusd)
    bobs = BrokerAccount.objects.create(owner=bob, name="Bob", broker="paper", currency="USD")
    body = {"instance": instance.pk, "account": bobs.pk}

    theirs = bob_api.post(url, body, format="json")
    missing = bob_api.post(url, {**body, "instance": 2_000_000_000}, format="json")

    assert theirs.status_code == missing.status_code
    assert theirs.json() == _with_id(missing.json(), 2_000_000_000, instance.pk)


def _with_id(body, old, new):
    import json

    return json.loads(json.dumps(body).replace(str(old), str(new)))
