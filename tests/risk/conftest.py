"""Risk fixtures: a paper account at a known Tuesday (see risk_support), two instances, another user's account."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from risk_support import T0, make_bars, make_instance


@pytest.fixture
def account(transactional_db, paper_account, eurusd):
    """Paper account whose simulated clock is T0 (market open); EURUSD bars at 1.10000 up to T0."""
    make_bars(eurusd, T0 - timedelta(minutes=30), 30)
    paper_account.paper_processed_until = T0
    paper_account.save()
    return paper_account


@pytest.fixture
def inst_a(account, eurusd):
    return make_instance(account, eurusd, 101, "A")


@pytest.fixture
def inst_b(account, eurusd):
    return make_instance(account, eurusd, 102, "B")


@pytest.fixture
def other_account(transactional_db, bob):
    from trading.models import BrokerAccount

    return BrokerAccount.objects.create(
        owner=bob,
        name="Bob paper",
        broker="paper",
        currency="USD",
        balance=Decimal("10000"),
        equity=Decimal("10000"),
        paper_processed_until=T0,
    )
