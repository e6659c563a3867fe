from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.support.builders import T0, make_execution, make_order, make_trade
from trading.models import BrokerAccount, Order


@pytest.fixture
def bob_account(bob):
    return BrokerAccount.objects.create(owner=bob, name="Bob paper")


def test_orders_are_listed_only_for_their_owner(alice_api, bob_api, paper_account, bob_account, eurusd, instance):
    mine = make_order(paper_account, eurusd, instance)
    make_order(bob_account, eurusd)

    alice_ids = [o["id"] for o in alice_api.get("/api/v1/orders/").json()["results"]]
    detail = alice_api.get(f"/api/v1/orders/{mine.pk}/")
    other = bob_api.get(f"/api/v1/orders/{mine.pk}/")

    assert alice_ids == [mine.pk]
    assert detail.status_code == 200 and detail.json()["instance"] == instance.pk
    assert other.status_code == 404


def test_orders_filter_by_status_and_refuse_unknown_status(alice_api, paper_account, eurusd):
    make_order(paper_account, eurusd, status="filled")
    rejected = make_order(paper_account, eurusd, status="rejected", reject_reason="MARKET_HALTED")

    ok = alice_api.get("/api/v1/orders/", {"status": "rejected"})
    bad = alice_api.get("/api/v1/orders/", {"status": "lost"})

    assert [o["id"] for o in ok.json()["results"]] == [rejected.pk]
    assert bad.status_code == 400
    assert "lost" in bad.json()["extra"]["fields"]["status"][0]


def test_trades_are_listed_only_for_their_owner(alice_api, bob_api, paper_account, bob_account, eurusd):
    mine = make_trade(paper_account, eurusd)
    make_trade(bob_account, eurusd)

    alice_ids = [t["id"] for t in alice_api.get("/api/v1/trades/").json()["results"]]

    assert alice_ids == [mine.pk]
    assert bob_api.get(f"/api/v1/trades/{mine.pk}/").status_code == 404


def test_trades_filter_by_instance_state_instrument_and_dates(alice_api, paper_account, eurusd, usdjpy, instance):
    open_eur = make_trade(paper_account, eurusd, instance)
    closed_eur = make_trade(
        paper_account,
        eurusd,
        instance,
        state="closed",
        open_time=T0 - timedelta(days=2),
        close_time=T0 - timedelta(days=1),
        close_price=Decimal("1.09"),
        realized_pl=Decimal("55.2"),
    )
    jpy = make_trade(paper_account, usdjpy, open_price=Decimal("150.123"))

    def ids(**params):
        return sorted(t["id"] for t in alice_api.get("/api/v1/trades/", params).json()["results"])

    assert ids(instance=instance.pk) == sorted([open_eur.pk, closed_eur.pk])
    assert ids(state="closed") == [closed_eur.pk]
    assert ids(instrument="USDJPY") == [jpy.pk]
    assert ids(start="2024-03-03T00:00:00Z") == sorted([open_eur.pk, jpy.pk])
    assert ids(end="2024-03-03T00:00:00Z") == [closed_eur.pk]


def test_trades_include_pl_as_decimal_strings(alice_api, paper_account, eurusd):
    make_trade(
        paper_account, eurusd, unrealized_pl=Decimal("-12.34"), financing=Decimal("-0.5"), commission=Decimal("0.1")
    )

    trade = alice_api.get("/api/v1/trades/").json()["results"][0]

    assert Decimal(trade["unrealized_pl"]) == Decimal("-12.34")
    assert Decimal(trade["financing"]) == Decimal("-0.5")
    assert Decimal(trade["realized_pl"]) == 0
    assert trade["open_price"] == "1.0846300000"
    assert trade["currency"] == "USD"
    assert trade["open_time"] == "2024-03-04T10:00:00Z"


def test_trades_bad_date_filter_names_the_value(alice_api, paper_account):
    response = alice_api.get("/api/v1/trades/", {"start": "03/04/2024 noon"})

    assert response.status_code == 400
    assert "03/04/2024 noon" in response.json()["extra"]["fields"]["start"][0]


def test_trade_close_creates_a_close_order(alice_api, paper_account, eurusd, instance):
    pytest.importorskip("trading.services.trades", reason="trade_close_manual has not landed yet")
    trade = make_trade(paper_account, eurusd, instance)

    response = alice_api.post(f"/api/v1/trades/{trade.pk}/close/")

    assert response.status_code == 202, response.content
    order = Order.objects.get(pk=response.json()["id"])
    assert order.intent == "close"
    assert order.trade_id == trade.pk


def test_trade_of_another_user_cannot_be_closed(bob_api, paper_account, eurusd):
    trade = make_trade(paper_account, eurusd)

    response = bob_api.post(f"/api/v1/trades/{trade.pk}/close/")

    assert response.status_code == 404
    assert not Order.objects.exists()


def test_executions_are_listed_only_for_their_owner_and_filtered(alice_api, bob_api, instance):
    ok = make_execution(instance, hours=0, status="success")
    failed = make_execution(instance, hours=1, status="failed", error="boom")

    by_status = alice_api.get("/api/v1/executions/", {"status": "failed"}).json()["results"]
    by_instance = alice_api.get("/api/v1/executions/", {"instance": instance.pk}).json()["results"]

    assert [e["id"] for e in by_status] == [failed.pk]
    assert [e["id"] for e in by_instance] == [failed.pk, ok.pk]
    assert bob_api.get("/api/v1/executions/").json()["count"] == 0
    assert bob_api.get(f"/api/v1/executions/{ok.pk}/").status_code == 404
    assert alice_api.get(f"/api/v1/executions/{ok.pk}/").json()["status"] == "success"
