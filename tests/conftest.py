"""Shared fixtures: personas (alice owns things, bob is another user) and a demo market."""

from __future__ import annotations

from decimal import Decimal

import pytest


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="alice-pass-123")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", password="bob-pass-123")


@pytest.fixture
def eurusd(db):
    from trading.models import Instrument

    return Instrument.objects.create(
        symbol="EURUSD",
        broker_symbol="EUR_USD",
        base_currency="EUR",
        quote_currency="USD",
        digits=5,
        pip_location=-4,
        contract_size=Decimal("100000"),
        margin_rate=Decimal("0.02"),
        spread_points=10,
    )


@pytest.fixture
def usdjpy(db):
    from trading.models import Instrument

    return Instrument.objects.create(
        symbol="USDJPY",
        broker_symbol="USD_JPY",
        base_currency="USD",
        quote_currency="JPY",
        digits=3,
        pip_location=-2,
        contract_size=Decimal("100000"),
        margin_rate=Decimal("0.04"),
        spread_points=12,
    )


@pytest.fixture
def paper_account(alice):
    from trading.models import BrokerAccount

    return BrokerAccount.objects.create(
        owner=alice,
        name="Alice paper",
        broker="paper",
        currency="USD",
        balance=Decimal("10000"),
        equity=Decimal("10000"),
    )
