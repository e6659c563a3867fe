"""Adding an OANDA account checks its token and id against the chosen environment (service, API, command)."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from trading.models import BrokerAccount
from trading.services.accounts import account_create, account_update


def _create(alice, fake, **overrides):
    fields = {
        "owner": alice,
        "name": "OANDA",
        "broker": "oanda",
        "environment": "practice",
        "broker_account_id": fake.account_id,
        "token": fake.token,
    }
    fields.update(overrides)
    return account_create(**fields)


def test_bad_token_is_refused_on_the_token_field_with_oandas_reason(alice, oanda_settings, fake):
    with pytest.raises(ValidationError) as caught:
        _create(alice, fake, token="not-the-token")

    errors = caught.value.message_dict
    assert set(errors) == {"token"}
    assert "token refused by OANDA practice" in errors["token"][0]
    assert "practice and live tokens are separate" in errors["token"][0]
    assert not BrokerAccount.objects.exists()


def test_unknown_account_id_is_refused_listing_the_available_ones(alice, oanda_settings, fake):
    with pytest.raises(ValidationError) as caught:
        _create(alice, fake, broker_account_id="101-004-9999999-001")

    errors = caught.value.message_dict
    assert set(errors) == {"broker_account_id"}
    assert "101-004-9999999-001 not found" in errors["broker_account_id"][0]
    assert fake.account_id in errors["broker_account_id"][0]
    assert "101-004-1000001-002" in errors["broker_account_id"][0]


def test_unreachable_environment_is_refused_on_the_environment_field(alice, oanda_settings, fake):
    oanda_settings.OANDA_PRACTICE_URL = "http://127.0.0.1:9"  # nothing listens on the discard port

    with pytest.raises(ValidationError) as caught:
        _create(alice, fake)

    assert set(caught.value.message_dict) == {"environment"}


def test_good_credentials_are_saved_with_the_brokers_figures(alice, oanda_settings, fake):
    account = _create(alice, fake)

    account.refresh_from_db()
    assert account.get_token() == fake.token
    assert account.currency == "USD"
    assert account.balance == 100000
    assert account.last_transaction_id == str(fake.account().last)


def test_update_with_a_wrong_token_keeps_the_old_one(alice, oanda_settings, fake):
    account = _create(alice, fake)

    with pytest.raises(ValidationError) as caught:
        account_update(BrokerAccount.objects.get(pk=account.pk), token="wrong")

    assert set(caught.value.message_dict) == {"token"}
    assert BrokerAccount.objects.get(pk=account.pk).get_token() == fake.token


def test_api_names_the_field_at_fault(alice_api, oanda_settings, fake):
    response = alice_api.post(
        "/api/v1/accounts/",
        {
            "name": "x",
            "broker": "oanda",
            "environment": "practice",
            "broker_account_id": "101-004-9999999-001",
            "token": fake.token,
        },
        format="json",
    )

    assert response.status_code == 400
    fields = response.json()["extra"]["fields"]
    assert list(fields) == ["broker_account_id"]
    assert fake.account_id in fields["broker_account_id"][0]
    assert fake.token not in response.content.decode()


def test_command_checks_from_the_shell(oanda_settings, fake, tmp_path, db):
    token_file = tmp_path / "token"
    token_file.write_text(fake.token + "\n")
    out = io.StringIO()

    call_command("oanda_check_account", "--account-id", fake.account_id, "--token-file", str(token_file), stdout=out)
    token_file.write_text("wrong\n")
    with pytest.raises(CommandError, match="token: token refused by OANDA practice"):
        call_command("oanda_check_account", "--account-id", fake.account_id, "--token-file", str(token_file))

    assert out.getvalue().startswith(f"OK: account {fake.account_id} on OANDA practice, USD balance 100000")


def test_mt4_linked_account_is_refused_on_the_account_field(alice, settings):
    from tests.support.fake_oanda import FakeOanda
    from trading.venues.oanda.client import oanda_clients_reset

    mt4 = "101-004-1000001-009"
    server = FakeOanda.start(other_accounts=(mt4,), mt4_accounts=(mt4,))
    try:
        settings.OANDA_PRACTICE_URL = settings.OANDA_PRACTICE_STREAM_URL = server.url
        oanda_clients_reset()
        with pytest.raises(ValidationError) as caught:
            _create(alice, server, broker_account_id=mt4)
    finally:
        server.stop()
        oanda_clients_reset()

    errors = caught.value.message_dict
    assert set(errors) == {"broker_account_id"}
    assert "linked to MetaTrader 4" in errors["broker_account_id"][0]
    assert not BrokerAccount.objects.exists()
