"""Adding a cTrader account: the token pair and trading account id are checked with the server first."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tests.support.fake_ctrader import HEDGED, NETTED, OTHER
from trading.models import BrokerAccount
from trading.services.accounts import account_create


def _create(alice, **fields):
    return account_create(owner=alice, name="cT", broker="ctrader", environment="practice", **fields)


def test_account_is_checked_and_filled_in_from_the_broker(ctrader_account, fake):
    account = BrokerAccount.objects.get(pk=ctrader_account.pk)

    assert account.currency == "USD"
    assert account.fifo is False  # a hedged account
    assert account.balance == fake.account(HEDGED).balance / 100
    assert account.get_token() == fake.main.access_token
    assert account.get_refresh_token() == fake.main.refresh_token
    assert fake.main.access_token not in account.token_encrypted  # stored encrypted
    assert ":" in account.last_transaction_id  # the deal history starts at creation


def test_netted_account_is_fifo_so_virtual_orders_default_on(netted_account):
    assert netted_account.fifo is True
    assert netted_account.virtual_orders is False or netted_account.virtual_mode is True


def test_trading_account_the_token_does_not_open_names_the_field_and_the_accounts(alice, ctrader_settings, fake):
    with pytest.raises(ValidationError) as refused:
        _create(alice, broker_account_id=str(OTHER), token=fake.main.access_token)

    message = refused.value.message_dict["broker_account_id"][0]
    assert str(OTHER) in message and str(HEDGED) in message and str(NETTED) in message
    assert not BrokerAccount.objects.exists()


def test_wrong_token_names_the_token_field(alice, ctrader_settings):
    with pytest.raises(ValidationError) as refused:
        _create(alice, broker_account_id=str(HEDGED), token="not-a-token-at-all")

    assert "token" in refused.value.message_dict


def test_wrong_application_names_the_broker_settings(alice, ctrader_settings, fake):
    ctrader_settings.CTRADER_CLIENT_SECRET = "wrong"
    from trading.venues.ctrader.client import ctrader_clients_reset

    ctrader_clients_reset()
    with pytest.raises(ValidationError) as refused:
        _create(alice, broker_account_id=str(HEDGED), token=fake.main.access_token)

    assert "CTRADER_CLIENT_ID" in refused.value.message_dict["broker"][0]


def test_expired_access_token_is_refreshed_at_set_up_and_the_new_pair_stored(alice, ctrader_settings, fake):
    old = fake.main
    fake.expire_token(old.access_token)

    account = _create(alice, broker_account_id=str(HEDGED), token=old.access_token, refresh_token=old.refresh_token)

    new = fake.current_grant(HEDGED)
    assert new.access_token != old.access_token
    assert account.get_token() == new.access_token
    assert account.get_refresh_token() == new.refresh_token
    assert account.token_expires_at is not None


def test_api_lists_the_trading_accounts_of_a_token_and_creates_the_account(alice, ctrader_settings, fake):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(alice)
    listed = api.post("/api/v1/brokers/ctrader/trading-accounts/", {"token": fake.main.access_token}, format="json")
    created = api.post(
        "/api/v1/accounts/",
        {
            "name": "Pepperstone demo",
            "broker": "ctrader",
            "environment": "practice",
            "broker_account_id": listed.json()[0]["broker_account_id"],
            "token": fake.main.access_token,
            "refresh_token": fake.main.refresh_token,
        },
        format="json",
    )

    assert listed.status_code == 200, listed.content
    assert {row["broker_account_id"] for row in listed.json()} == {str(HEDGED), str(NETTED)}
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["broker"] == "ctrader" and body["has_token"] is True
    assert fake.main.access_token not in created.content.decode()
    assert fake.main.refresh_token not in created.content.decode()
