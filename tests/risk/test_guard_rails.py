"""Each guard rail blocks the entry it should, never an exit, and nothing outside its scope."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from risk_support import T0, make_instance, open_via_broker

from risk.models import BlockedSignal, KillSwitch, RiskLimit
from risk.services.guard import intents_check
from trading.models import AccountSnapshot, BrokerAccount, Trade
from trading.services.execution.translate import Intent, Translation

BID, ASK = Decimal("1.10000"), Decimal("1.10010")


def entry(units: str = "10000", side: str = "buy", row: int = 1) -> Intent:
    return Intent(kind="open", row=row, seq=0, side=side, units=Decimal(units), price=ASK if side == "buy" else BID)


def exit_of(trade: Trade) -> Intent:
    return Intent(kind="close", row=0, seq=0, side=trade.side, units=trade.current_units, target_ticket=trade.ticket)


def check(instance, *intents: Intent) -> Translation:
    instance.account.refresh_from_db()
    return intents_check(
        instance=instance, execution=None, translation=Translation(list(intents), []), bid=BID, ask=ASK, now=T0
    )


def closed_trade(account, instance, realized: str) -> Trade:
    return Trade.objects.create(
        account=account,
        instance=instance,
        instrument=instance.instrument,
        broker_trade_id=f"C{instance.pk}",
        side="buy",
        initial_units=Decimal(1000),
        current_units=Decimal(0),
        open_time=T0 - timedelta(hours=2),
        open_price=BID,
        close_time=T0 - timedelta(hours=1),
        close_price=BID,
        realized_pl=Decimal(realized),
        state="closed",
        close_reason="strategy",
    )


# Each case: limit fields on instance A, a set-up that makes A trip, the rule, and the entry size.
CASES = {
    "max_open_trades": ({"max_open_trades": 1}, None, "10000"),
    "daily_loss": ({"daily_loss_limit": Decimal("50")}, "-60", "10000"),
    "max_drawdown": ({"max_drawdown_pct": Decimal("5")}, "-600", "10000"),
    "fat_finger": ({"max_order_equity_ratio": Decimal("2")}, None, "30000"),
    "currency_exposure": ({"max_currency_exposure_ratio": Decimal("2.5")}, None, "10000"),
    "spread": ({"max_spread_points": 5}, None, "10000"),
}


@pytest.mark.parametrize("rule", list(CASES))
def test_instance_rule_blocks_the_entry_but_not_the_exit_nor_another_instance(rule, account, inst_a, inst_b):
    fields, realized, units = CASES[rule]
    trade = open_via_broker(account, inst_a, units="20000" if rule == "currency_exposure" else "10000")
    if realized is not None:
        closed_trade(account, inst_a, realized)
    RiskLimit.objects.create(account=account, instance=inst_a, **fields)

    result_a = check(inst_a, exit_of(trade), entry(units))
    result_b = check(inst_b, entry(units))

    assert [i.kind for i in result_a.intents] == ["close"]
    assert [i.kind for i in result_b.intents] == ["open"]
    block = BlockedSignal.objects.get()
    assert (block.rule, block.instance_id, block.outcome) == (rule, inst_a.pk, "dropped")
    assert block.values["scope"] == "instance"
    assert block.intent["units"] == units
    assert any(f"blocked by {rule}" in note for note in result_a.notes)


def test_limits_not_reached_let_entries_through(account, inst_a):
    open_via_broker(account, inst_a)
    closed_trade(account, inst_a, "-40")
    RiskLimit.objects.create(
        account=account,
        instance=inst_a,
        max_open_trades=2,
        daily_loss_limit=Decimal("50"),
        max_drawdown_pct=Decimal("5"),
        max_order_equity_ratio=Decimal("2"),
        max_currency_exposure_ratio=Decimal("3"),
        max_spread_points=10,
    )

    result = check(inst_a, entry("10000"))

    assert [i.kind for i in result.intents] == ["open"]
    assert not BlockedSignal.objects.exists()


def test_open_trades_count_the_entries_let_through_in_the_same_run(account, inst_a):
    RiskLimit.objects.create(account=account, max_open_trades=1)

    result = check(inst_a, entry(row=1), entry(row=2))

    assert [i.row for i in result.intents] == [1]
    assert BlockedSignal.objects.get().values == {"scope": "account", "open": 1, "limit": 1}


def test_exposure_cap_lets_a_reducing_entry_through(account, inst_a):
    open_via_broker(account, inst_a, units="20000")
    RiskLimit.objects.create(account=account, max_currency_exposure_ratio=Decimal("2.5"))

    result = check(inst_a, entry("10000", side="buy", row=1), entry("10000", side="sell", row=2))

    assert [(i.side, i.row) for i in result.intents] == [("sell", 2)]
    block = BlockedSignal.objects.get()
    assert block.values["currency"] == "EUR"
    assert Decimal(block.values["exposure_after"]) == Decimal("22000") + Decimal(
        "11001"
    )  # held at the bid, new at the ask


def test_account_drawdown_uses_the_equity_high_water_mark(account, inst_a, inst_b):
    AccountSnapshot.objects.create(
        account=account, time=T0 - timedelta(hours=3), balance=Decimal("11000"), equity=Decimal("11000")
    )
    BrokerAccount.objects.filter(pk=account.pk).update(equity=Decimal("10000"))
    limit = RiskLimit.objects.create(account=account, max_drawdown_pct=Decimal("9"))

    blocked = check(inst_a, entry())
    limit.max_drawdown_pct = Decimal("10")
    limit.save()
    allowed = check(inst_b, entry())

    assert blocked.intents == [] and [i.kind for i in allowed.intents] == ["open"]
    block = BlockedSignal.objects.get()
    assert block.rule == "max_drawdown"
    assert block.values["peak"] == "11000.000000" and block.values["drawdown_pct"] == "9.0909"
    limit.refresh_from_db()
    assert limit.peak_equity == Decimal("11000")


def test_account_daily_loss_counts_the_change_in_open_pl_since_the_fx_day_start(account, inst_a):
    # 17:00 New York on 11 March 2024 (EDT) = 21:00 UTC opened the FX day of T0.
    AccountSnapshot.objects.create(
        account=account,
        time=T0 - timedelta(hours=14),
        balance=Decimal("10000"),
        equity=Decimal("10030"),
        unrealized_pl=Decimal("30"),
    )
    BrokerAccount.objects.filter(pk=account.pk).update(unrealized_pl=Decimal("-75"))
    closed_trade(account, inst_a, "-10")
    RiskLimit.objects.create(account=account, daily_loss_limit=Decimal("100"))

    result = check(inst_a, entry())

    assert result.intents == []
    block = BlockedSignal.objects.get()
    assert block.values["daily_pl"] == "-115.000000"
    assert block.values["day_start"] == "2024-03-11T21:00:00+00:00"


def test_kill_switch_blocks_entries_of_its_account_only(account, inst_a, other_account, eurusd):
    trade = open_via_broker(account, inst_a)
    other = make_instance(other_account, eurusd, 201, "Bob's")
    KillSwitch.objects.create(account=account, engaged=True)

    mine = check(inst_a, exit_of(trade), entry())
    theirs = check(other, entry())

    assert [i.kind for i in mine.intents] == ["close"]
    assert [i.kind for i in theirs.intents] == ["open"]
    assert BlockedSignal.objects.get().rule == "kill_switch"


def test_global_kill_switch_blocks_every_account(account, inst_a, other_account, eurusd):
    other = make_instance(other_account, eurusd, 201, "Bob's")
    KillSwitch.objects.create(account=None, engaged=True)

    assert check(inst_a, entry()).intents == []
    assert check(other, entry()).intents == []
    assert BlockedSignal.objects.filter(rule="kill_switch").count() == 2


def test_a_run_without_entries_reads_no_limits(account, inst_a, django_assert_num_queries):
    trade = open_via_broker(account, inst_a)
    RiskLimit.objects.create(account=account, max_open_trades=0)
    translation = Translation([exit_of(trade)], [])

    with django_assert_num_queries(0):
        result = intents_check(instance=inst_a, execution=None, translation=translation, bid=BID, ask=ASK, now=T0)

    assert result is translation
