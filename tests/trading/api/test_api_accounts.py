from __future__ import annotations

from decimal import Decimal

import pytest

from tests.support.builders import TOKEN
from trading.models import BrokerAccount


@pytest.fixture
def oanda_practice(settings):
    """A fake OANDA v20 server on 127.0.0.1 that knows TOKEN: account creation checks the token there."""
    from tests.support.fake_oanda import FakeOanda
    from trading.venues.oanda.client import oanda_clients_reset

    fake = FakeOanda.start(token=TOKEN, account_id="101-004-1234567-001")
    settings.OANDA_PRACTICE_URL = settings.OANDA_PRACTICE_STREAM_URL = fake.url
    oanda_clients_reset()
    yield fake
    oanda_clients_reset()
    fake.stop()


def test_account_create_stores_the_token_encrypted_and_never_returns_it(alice_api, alice, oanda_practice):
    response = alice_api.post(
        "/api/v1/accounts/",
        {"name": "Practice", "broker": "oanda", "broker_account_id": "101-004-1234567-001", "token": TOKEN},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert TOKEN.encode() not in response.content
    body = response.json()
    assert "token" not in body and "token_encrypted" not in body
    assert body["has_token"] is True
    assert body["token_hint"] == "…XYZW"
    account = BrokerAccount.objects.get(pk=body["id"])
    assert account.owner == alice
    assert TOKEN not in account.token_encrypted
    assert account.get_token() == TOKEN


def test_account_responses_never_contain_the_token(alice_api, paper_account):
    paper_account.set_token(TOKEN)
    paper_account.save()

    responses = [
        alice_api.get("/api/v1/accounts/"),
        alice_api.get(f"/api/v1/accounts/{paper_account.pk}/"),
        alice_api.patch(f"/api/v1/accounts/{paper_account.pk}/", {"name": "Renamed"}, format="json"),
        alice_api.patch(f"/api/v1/accounts/{paper_account.pk}/", {"token": TOKEN + "-new"}, format="json"),
    ]

    for response in responses:
        assert response.status_code == 200, response.content
        assert TOKEN.encode() not in response.content
        assert paper_account.token_encrypted.encode() not in response.content


def test_account_token_that_fails_validation_is_not_echoed(alice_api, paper_account):
    too_long = TOKEN * 30

    response = alice_api.patch(f"/api/v1/accounts/{paper_account.pk}/", {"token": too_long}, format="json")

    assert response.status_code == 400
    assert "token" in response.json()["extra"]["fields"]
    assert TOKEN.encode() not in response.content


def test_account_patch_changes_the_token_hint(alice_api, paper_account):
    response = alice_api.patch(f"/api/v1/accounts/{paper_account.pk}/", {"token": "abcdefgh-1234-9876"}, format="json")

    assert response.status_code == 200
    assert response.json()["token_hint"] == "…9876"
    paper_account.refresh_from_db()
    assert paper_account.get_token() == "abcdefgh-1234-9876"


def test_account_list_shows_only_the_callers_accounts(alice_api, bob_api, paper_account, bob):
    BrokerAccount.objects.create(owner=bob, name="Bob paper")

    alice_names = [a["name"] for a in alice_api.get("/api/v1/accounts/").json()["results"]]
    bob_names = [a["name"] for a in bob_api.get("/api/v1/accounts/").json()["results"]]

    assert alice_names == ["Alice paper"]
    assert bob_names == ["Bob paper"]


def test_account_of_another_user_is_not_found(bob_api, paper_account):
    url = f"/api/v1/accounts/{paper_account.pk}/"

    get = bob_api.get(url)
    patch = bob_api.patch(url, {"name": "stolen"}, format="json")

    assert get.status_code == 404
    assert patch.status_code == 404
    paper_account.refresh_from_db()
    assert paper_account.name == "Alice paper"


def test_account_money_is_returned_as_decimal_strings(alice_api, paper_account):
    body = alice_api.get(f"/api/v1/accounts/{paper_account.pk}/").json()

    assert Decimal(body["balance"]) == Decimal("10000")
    assert isinstance(body["balance"], str)
    assert body["created_at"].endswith("Z")


def test_account_create_with_bad_oanda_id_and_currency_is_refused_naming_both(alice_api):
    response = alice_api.post(
        "/api/v1/accounts/",
        {"name": "Bad", "broker": "oanda", "broker_account_id": "12345", "currency": "usd"},
        format="json",
    )

    assert response.status_code == 400
    fields = response.json()["extra"]["fields"]
    assert "'12345'" in fields["broker_account_id"][0]
    assert "'usd'" in fields["currency"][0]
    assert not BrokerAccount.objects.filter(name="Bad").exists()


def test_account_create_with_unknown_broker_names_the_value(alice_api):
    response = alice_api.post("/api/v1/accounts/", {"name": "X", "broker": "ftx"}, format="json")

    assert response.status_code == 400
    assert "ftx" in response.json()["extra"]["fields"]["broker"][0]
