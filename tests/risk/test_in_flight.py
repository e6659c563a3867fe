"""Orders in flight count: an entry not sent yet, being sent, or whose answer was lost is a position already."""

from __future__ import annotations

from decimal import Decimal

import pytest
from risk_support import open_via_broker

from risk.models import BlockedSignal, RiskLimit
from risk.services.guard import intents_check
from trading.models import Order
from trading.services.execution.translate import Intent, Translation

BID, ASK = Decimal("1.10000"), Decimal("1.10010")


def entry(units: str = "10000", side: str = "buy", row: int = 1) -> Intent:
    return Intent(kind="open", row=row, seq=0, side=side, units=Decimal(units), price=ASK if side == "buy" else BID)


def in_flight(instance, status: str, units: str = "10000", side: str = "buy") -> Order:
    """A market entry of an earlier bar that has no answer yet (its dispatcher died, or its answer was lost)."""
    return Order.objects.create(
        client_order_id=f"flight-{status}-{Order.objects.count()}",
        account=instance.account,
        instance=instance,
        instrument=instance.instrument,
        intent="open",
        order_type="market",
        side=side,
        units=Decimal(units),
        price=ASK if side == "buy" else BID,
        status=status,
    )


def check(instance, *intents: Intent) -> Translation:
    from risk_support import T0

    instance.account.refresh_from_db()
    return intents_check(
        instance=instance, execution=None, translation=Translation(list(intents), []), bid=BID, ask=ASK, now=T0
    )


@pytest.mark.parametrize("status", ["new", "submitting", "unknown"])
def test_max_open_orders_counts_an_entry_still_in_flight(account, inst_a, status):
    inst_a.max_open_orders = 1
    inst_a.save()
    in_flight(inst_a, status)

    result = check(inst_a, entry())

    assert result.intents == []
    block = BlockedSignal.objects.get()
    assert (block.rule, block.values) == ("max_open_trades", {"scope": "instance settings", "open": 1, "limit": 1})


def test_an_exit_of_the_same_run_makes_room_for_the_entry(account, inst_a):
    inst_a.max_open_orders = 1
    inst_a.save()
    trade = open_via_broker(account, inst_a)
    close = Intent(kind="close", row=0, seq=0, side="buy", units=trade.current_units, target_ticket=trade.ticket)

    result = check(inst_a, close, entry(side="sell", row=1))

    assert [i.kind for i in result.intents] == ["close", "open"]
    assert not BlockedSignal.objects.exists()


def test_a_second_entry_of_the_same_run_is_blocked_at_the_instance_limit(account, inst_a):
    inst_a.max_open_orders = 1
    inst_a.save()

    result = check(inst_a, entry(row=1), entry(row=2))

    assert [i.row for i in result.intents] == [1]
    assert BlockedSignal.objects.get().values == {"scope": "instance settings", "open": 1, "limit": 1}


def test_account_open_trades_limit_counts_another_instances_entry_in_flight(account, inst_a, inst_b):
    RiskLimit.objects.create(account=account, max_open_trades=1)
    in_flight(inst_b, "submitting")

    result = check(inst_a, entry())

    assert result.intents == []
    assert BlockedSignal.objects.get().values == {"scope": "account", "open": 1, "limit": 1}


def test_currency_exposure_counts_market_entries_in_flight(account, inst_a, inst_b):
    # Equity about 10,000, cap 2.5x: the trade (11,000) and the new entry (5,500.5) alone stay under it; with the
    # entry in flight (11,001) the exposure would reach 27,501.5, over it.
    open_via_broker(account, inst_a, units="10000")
    in_flight(inst_b, "unknown", units="10000")
    RiskLimit.objects.create(account=account, max_currency_exposure_ratio=Decimal("2.5"))

    result = check(inst_a, entry("5000"))

    assert result.intents == []
    block = BlockedSignal.objects.get()
    assert block.values["currency"] == "EUR"
    # held 11,000 (trade at the bid) + 11,001 (in flight at its reference ask) + 5,500.5 new at the ask
    assert Decimal(block.values["exposure_before"]) == Decimal("11000") + Decimal("11001")
    assert Decimal(block.values["exposure_after"]) == Decimal("11000") + Decimal("11001") + Decimal("5500.5")
