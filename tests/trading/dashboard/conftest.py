from __future__ import annotations

from decimal import Decimal

import pytest

from tests.support.builders import make_execution, make_instance, make_snapshots, make_trade


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def alice_data(paper_account, eurusd):
    instance = make_instance(paper_account, eurusd, name="Alice MA")
    make_execution(instance, hours=0, status="failed", error="not enough rates data in slot 0")
    make_trade(paper_account, eurusd, instance, unrealized_pl=Decimal("-12.34"))
    make_snapshots(paper_account, ["10000", "10050", "9980", "10120"])
    return instance
