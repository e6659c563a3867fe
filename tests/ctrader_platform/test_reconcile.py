"""Reconciliation on cTrader: a position a person opened on cTrader's own platform is reported, and only an
explicit action (adopt into an instance, or close at the broker) changes anything."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.support.fake_ctrader import HEDGED
from trading.models import CloseReason, Discrepancy, DiscrepancyKind, DiscrepancyStatus, Trade, TradeState
from trading.services.reconcile import discrepancy_resolve, reconcile_detect
from trading.venues.ctrader.sync import ctrader_account_sync

from .conftest import dispatch


@pytest.fixture
def diverged(fake, ctrader_account, new_order, ct_eurusd):
    """One platform trade closed by hand (history not synced yet) and one position opened by hand."""
    order = new_order(units="10000")
    dispatch(order)
    ours = Trade.objects.get(pk=order.trade_id)
    fake.set_price("EURUSD", "1.10200", "1.10210")
    fake.manual_close(int(ours.broker_trade_id))
    external = fake.manual_open("EURUSD", "sell", 5000)
    return ours, str(external)


def test_reconcile_reports_both_and_changes_nothing(diverged, ctrader_account):
    ours, external = diverged
    before = list(Trade.objects.values_list("pk", "state", "current_units", "realized_pl"))

    first = reconcile_detect(ctrader_account)
    again = reconcile_detect(ctrader_account)

    rows = {d.kind: d for d in Discrepancy.objects.filter(account=ctrader_account, status=DiscrepancyStatus.OPEN)}
    assert set(rows) == {DiscrepancyKind.TRADE_ONLY_IN_DB, DiscrepancyKind.TRADE_ONLY_AT_BROKER}
    assert rows[DiscrepancyKind.TRADE_ONLY_IN_DB].broker_trade_id == ours.broker_trade_id
    outside = rows[DiscrepancyKind.TRADE_ONLY_AT_BROKER]
    assert outside.broker_trade_id == external and outside.instance_id is None
    assert outside.side == "sell" and outside.broker_units == Decimal("5000")
    assert "opened outside the platform" in outside.detail
    assert (first.new, again.new) == (2, 0)
    assert list(Trade.objects.values_list("pk", "state", "current_units", "realized_pl")) == before


def test_manual_trade_recorded_by_history_is_adopted_into_an_instance(diverged, ctrader_account, ct_instance):
    ours, external = diverged
    ctrader_account_sync(ctrader_account)  # history: our trade closed by hand, the person's position opened
    reconcile_detect(ctrader_account)
    row = Discrepancy.objects.get(account=ctrader_account, kind=DiscrepancyKind.TRADE_ONLY_AT_BROKER)

    resolved = discrepancy_resolve(discrepancy=row, action="adopt", instance=ct_instance)

    ours.refresh_from_db()
    adopted = Trade.objects.get(account=ctrader_account, broker_trade_id=external)
    assert ours.state == TradeState.CLOSED and ours.close_reason == CloseReason.MANUAL
    assert ours.realized_pl == Decimal("19.00")  # (1.10200 - 1.10010) * 10,000
    assert resolved.status == DiscrepancyStatus.ADOPTED
    assert adopted.instance_id == ct_instance.pk and adopted.state == TradeState.OPEN
    assert adopted.current_units == Decimal("5000") and adopted.side == "sell"
    assert reconcile_detect(ctrader_account).open == 0


def test_manual_trade_closed_at_the_broker_by_the_close_action(diverged, fake, ctrader_account):
    _, external = diverged
    reconcile_detect(ctrader_account)
    row = Discrepancy.objects.get(account=ctrader_account, kind=DiscrepancyKind.TRADE_ONLY_AT_BROKER)

    resolved = discrepancy_resolve(discrepancy=row, action="close")

    assert resolved.status == DiscrepancyStatus.CLOSED
    assert int(external) not in fake.account(HEDGED).positions
    closed = Trade.objects.get(account=ctrader_account, broker_trade_id=external)
    assert closed.state == TradeState.CLOSED and closed.close_reason == CloseReason.MANUAL
