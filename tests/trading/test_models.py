from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from trading.models import Bar, BrokerAccount


def test_instrument_points_round_trip_exactly(eurusd):
    assert eurusd.point == Decimal("0.00001")
    assert eurusd.to_points(Decimal("1.08463")) == 108463
    assert eurusd.from_points(108463) == Decimal("1.08463")


def test_instrument_refuses_prices_finer_than_its_digits(eurusd):
    with pytest.raises(ValueError, match="more than 5 decimals"):
        eurusd.to_points(Decimal("1.084631"))


def test_bar_with_high_below_low_is_refused_by_the_database(eurusd):
    from datetime import UTC, datetime

    with pytest.raises(IntegrityError), transaction.atomic():
        Bar.objects.create(
            instrument=eurusd,
            timeframe=1,
            time=datetime(2024, 1, 2, tzinfo=UTC),
            open=100,
            high=99,
            low=101,
            close=100,
        )


def test_account_token_is_stored_encrypted_and_only_hinted(paper_account):
    paper_account.set_token("secret-token-abcdef-1234")
    paper_account.save()
    stored = BrokerAccount.objects.get(pk=paper_account.pk)
    assert "secret-token" not in stored.token_encrypted
    assert stored.token_hint == "…1234"
    assert stored.get_token() == "secret-token-abcdef-1234"


def test_oanda_account_id_format_is_checked(alice):
    account = BrokerAccount(owner=alice, name="x", broker="oanda", broker_account_id="12345", currency="usd")
    with pytest.raises(ValidationError) as e:
        account.full_clean()
    assert "broker_account_id" in e.value.message_dict
    assert "currency" in e.value.message_dict
