"""Reconciliation reports a trade closed by hand and one opened by hand; only an action changes anything."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from trading.models import (
    CloseReason,
    Discrepancy,
    DiscrepancyKind,
    DiscrepancyStatus,
    Trade,
    TradeState,
)
from trading.services.orders.dispatch import orders_dispatch
from trading.services.reconcile import discrepancy_resolve, reconcile_detect


@pytest.fixture
def diverged(fake, oanda_account, new_order, hand):
    """One platform trade closed by hand (history not applied yet) and one trade opened by hand."""
    order = new_order(units="1000")
    orders_dispatch(account_id=order.account_id, instrument_id=order.instrument_id)
    order.refresh_from_db()
    ours = Trade.objects.get(pk=order.trade_id)
    fake.set_price("EUR_USD", "1.10200", "1.10210")
    hand.close_trade(ours.broker_trade_id)
    external_id = fake.open_trade_external("EURUSD", -500)
    return ours, external_id


def _snapshot(account) -> list[tuple]:
    return list(
        Trade.objects.filter(account=account)
        .order_by("pk")
        .values_list("pk", "instance_id", "state", "current_units", "realized_pl", "close_reason")
    )


def test_reconcile_reports_both_and_changes_nothing(diverged, oanda_account):
    ours, external_id = diverged
    before = _snapshot(oanda_account)

    first = reconcile_detect(oanda_account)
    again = reconcile_detect(oanda_account)

    rows = {d.kind: d for d in Discrepancy.objects.filter(account=oanda_account, status=DiscrepancyStatus.OPEN)}
    assert set(rows) == {DiscrepancyKind.TRADE_ONLY_IN_DB, DiscrepancyKind.TRADE_ONLY_AT_BROKER}
    assert rows[DiscrepancyKind.TRADE_ONLY_IN_DB].broker_trade_id == ours.broker_trade_id
    assert rows[DiscrepancyKind.TRADE_ONLY_IN_DB].instance_id == ours.instance_id
    outside = rows[DiscrepancyKind.TRADE_ONLY_AT_BROKER]
    assert outside.broker_trade_id == external_id
    assert outside.instance_id is None
    assert outside.side == "sell" and outside.broker_units == Decimal("500")
    assert "opened outside the platform" in outside.detail
    assert (first.new, again.new, again.open) == (2, 0, 2)
    assert _snapshot(oanda_account) == before


def test_adopt_the_closed_trade_takes_the_broker_figures(diverged, oanda_account, alice):
    ours, _ = diverged
    reconcile_detect(oanda_account)
    row = Discrepancy.objects.get(kind=DiscrepancyKind.TRADE_ONLY_IN_DB)

    resolved = discrepancy_resolve(discrepancy=row, action="adopt", user=alice)
    ours.refresh_from_db()

    assert resolved.status == DiscrepancyStatus.ADOPTED
    assert resolved.resolved_by == alice
    assert ours.state == TradeState.CLOSED
    assert ours.close_reason == CloseReason.BROKER
    assert ours.close_price == Decimal("1.10200")
    assert ours.realized_pl == (Decimal("1.10200") - Decimal("1.10010")) * 1000


def test_adopt_the_outside_trade_into_an_instance(diverged, oanda_account, oanda_instance):
    _, external_id = diverged
    reconcile_detect(oanda_account)
    row = Discrepancy.objects.get(kind=DiscrepancyKind.TRADE_ONLY_AT_BROKER)

    discrepancy_resolve(discrepancy=row, action="adopt", instance=oanda_instance)
    reconcile_detect(oanda_account)

    adopted = Trade.objects.get(account=oanda_account, broker_trade_id=external_id)
    assert adopted.instance == oanda_instance
    assert adopted.state == TradeState.OPEN
    assert adopted.side == "sell" and adopted.current_units == Decimal("500")
    assert not Discrepancy.objects.filter(
        kind=DiscrepancyKind.TRADE_ONLY_AT_BROKER, status=DiscrepancyStatus.OPEN
    ).exists()


def test_close_the_outside_trade_closes_it_at_the_broker(diverged, oanda_account, hand):
    _, external_id = diverged
    reconcile_detect(oanda_account)
    row = Discrepancy.objects.get(kind=DiscrepancyKind.TRADE_ONLY_AT_BROKER)

    resolved = discrepancy_resolve(discrepancy=row, action="close")

    assert resolved.status == DiscrepancyStatus.CLOSED
    assert external_id not in {t.broker_trade_id for t in hand.list_open_trades()}
    closed = Trade.objects.get(account=oanda_account, broker_trade_id=external_id)
    assert closed.state == TradeState.CLOSED
    assert closed.close_reason == CloseReason.MANUAL


def test_ignore_keeps_both_sides_and_stops_reporting(diverged, oanda_account):
    reconcile_detect(oanda_account)
    before = _snapshot(oanda_account)
    rows = list(Discrepancy.objects.filter(account=oanda_account, status=DiscrepancyStatus.OPEN))

    for row in rows:
        discrepancy_resolve(discrepancy=row, action="ignore")
    later = reconcile_detect(oanda_account)

    assert _snapshot(oanda_account) == before
    assert later.open == 0 and later.new == 0
    with pytest.raises(ValidationError, match="already ignored"):
        discrepancy_resolve(discrepancy=rows[0], action="adopt")


def test_units_mismatch_cannot_be_closed(diverged, oanda_account):
    reconcile_detect(oanda_account)
    row = Discrepancy.objects.get(kind=DiscrepancyKind.TRADE_ONLY_IN_DB)
    row.kind = DiscrepancyKind.TRADE_UNITS
    row.save()

    with pytest.raises(ValidationError, match="does not apply"):
        discrepancy_resolve(discrepancy=row, action="close")


def test_api_lists_runs_and_resolves(diverged, oanda_account, alice_api):
    ran = alice_api.post(f"/api/v1/accounts/{oanda_account.pk}/reconcile/")
    listed = alice_api.get("/api/v1/discrepancies/", {"status": "open"})
    target = next(r for r in listed.json()["results"] if r["kind"] == "trade_broker_only")
    bad = alice_api.post(f"/api/v1/discrepancies/{target['id']}/resolve/", {"action": "explode"}, format="json")
    done = alice_api.post(f"/api/v1/discrepancies/{target['id']}/resolve/", {"action": "ignore"}, format="json")

    assert ran.status_code == 200, ran.content
    assert ran.json()["new"] == 2
    assert listed.json()["count"] == 2
    assert bad.status_code == 400
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "ignored"


def test_other_users_cannot_see_or_resolve(diverged, oanda_account, bob):
    from rest_framework.test import APIClient

    reconcile_detect(oanda_account)
    api = APIClient()
    api.force_authenticate(bob)
    row = Discrepancy.objects.filter(account=oanda_account).first()

    assert api.get("/api/v1/discrepancies/").json()["count"] == 0
    assert api.post(f"/api/v1/discrepancies/{row.pk}/resolve/", {"action": "ignore"}, format="json").status_code == 404
    assert api.post(f"/api/v1/accounts/{oanda_account.pk}/reconcile/").status_code == 404
