"""Market closed: an order is dropped or queued per the account's policy, recorded either way; queued ones go at the open."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from risk_support import MONDAY, SATURDAY, T0, make_bars, open_via_broker

from risk.models import BlockedSignal, MarketHoursPolicy
from risk.services.market_hours import market_closed_reason, order_may_send, orders_release_queued
from trading.models import BrokerAccount, Order, Trade
from trading.services.orders.dispatch import orders_dispatch
from trading.services.trades import trade_close_manual
from trading.venues.paper.simulate import paper_account_process


def _weekend(account) -> None:
    BrokerAccount.objects.filter(pk=account.pk).update(paper_processed_until=SATURDAY)


def test_dropped_when_the_policy_says_drop(account, inst_a, alice):
    trade = open_via_broker(account, inst_a)
    MarketHoursPolicy.objects.create(account=account, when_closed="drop")
    _weekend(account)

    order = trade_close_manual(trade, user=alice)  # dispatched on commit, at the paper account's Saturday

    order.refresh_from_db()
    trade.refresh_from_db()
    assert order.status == "cancelled" and order.reject_reason == "market closed (weekend or holiday)"
    assert trade.state == "open"
    block = BlockedSignal.objects.get()
    assert (block.rule, block.outcome, block.order_id) == ("market_closed", "dropped", order.pk)
    assert block.values["market_time"] == SATURDAY.isoformat()


def test_queued_by_default_then_sent_once_the_market_opens(account, inst_a, alice, eurusd):
    trade = open_via_broker(account, inst_a)
    _weekend(account)

    order = trade_close_manual(trade, user=alice)
    orders_dispatch(account_id=account.pk, instrument_id=eurusd.pk)  # another dispatch leaves it alone
    still_closed = orders_release_queued(now=SATURDAY)
    order.refresh_from_db()
    status_while_closed = order.status

    make_bars(eurusd, MONDAY, 5, price="1.10200")
    paper_account_process(BrokerAccount.objects.get(pk=account.pk), until=MONDAY.replace(minute=5))
    released = orders_release_queued(now=MONDAY.replace(minute=5))

    order.refresh_from_db()
    trade.refresh_from_db()
    assert (status_while_closed, still_closed, released) == ("new", 0, 1)
    assert order.status == "done"
    assert trade.state == "closed" and trade.close_price == Decimal("1.10200")
    block = BlockedSignal.objects.get()
    assert (block.outcome, block.released_at) == ("released", MONDAY.replace(minute=5))


def test_a_queued_order_cancelled_meanwhile_is_only_taken_off_the_queue(account, inst_a, alice):
    trade = open_via_broker(account, inst_a)
    _weekend(account)
    order = trade_close_manual(trade, user=alice)
    Order.objects.filter(pk=order.pk).update(status="cancelled")

    orders_release_queued(now=MONDAY)

    assert BlockedSignal.objects.get().outcome == "dropped"


def test_explicit_clock_for_an_oanda_account(transactional_db, alice, eurusd):
    account = BrokerAccount.objects.create(owner=alice, name="fx", broker="oanda", broker_account_id="101-004-1-001")
    order = Order.objects.create(
        client_order_id="x1",
        account=account,
        instrument=eurusd,
        intent="open",
        order_type="market",
        side="buy",
        units=Decimal(1000),
    )

    sent_saturday = order_may_send(order, SATURDAY)
    sent_monday = order_may_send(order, MONDAY)

    assert (sent_saturday, sent_monday) == (False, True)
    assert BlockedSignal.objects.get().outcome == "queued"
    assert Order.objects.get(pk=order.pk).status == "new"


def test_oanda_daily_break_is_closed_only_for_oanda_and_only_when_set(transactional_db, alice, eurusd, paper_account):
    oanda = BrokerAccount.objects.create(owner=alice, name="fx", broker="oanda", broker_account_id="101-004-1-001")
    in_break = datetime(2024, 3, 12, 21, 1, tzinfo=UTC)  # 17:01 New York (EDT)
    after = datetime(2024, 3, 12, 21, 5, tzinfo=UTC)

    reasons = [
        market_closed_reason(oanda, eurusd, in_break),
        market_closed_reason(oanda, eurusd, after),
        market_closed_reason(paper_account, eurusd, in_break),
    ]
    MarketHoursPolicy.objects.create(account=oanda, oanda_daily_break=False)
    without = market_closed_reason(oanda, eurusd, in_break)

    assert reasons == ["OANDA daily break", "", ""]
    assert without == ""


def test_always_open_instruments_and_holidays(transactional_db, paper_account, eurusd):
    christmas = datetime(2024, 12, 25, 12, 0, tzinfo=UTC)
    eurusd_reasons = [market_closed_reason(paper_account, eurusd, t) for t in (SATURDAY, christmas, T0)]
    eurusd.always_open = True

    assert eurusd_reasons == ["weekend or holiday", "weekend or holiday", ""]
    assert market_closed_reason(paper_account, eurusd, SATURDAY) == ""


def test_trades_are_not_touched_by_a_dropped_entry(account, inst_a):
    MarketHoursPolicy.objects.create(account=account, when_closed="drop")
    _weekend(account)

    try:
        open_via_broker(account, inst_a)
    except Trade.DoesNotExist:
        pass

    assert not Trade.objects.exists()
    assert Order.objects.get().status == "cancelled"
