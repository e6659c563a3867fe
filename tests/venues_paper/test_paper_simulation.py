"""Paper broker rules on constructed bars: SL/TP, gaps, both-hit bars, pending orders, expiry, conversion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from trading.models import Bar, BrokerAccount, CloseReason, Order, OrderStatus, Trade, TradeState
from trading.services.orders.dispatch import orders_dispatch
from trading.venues.paper.simulate import paper_account_process

T0 = datetime(2024, 3, 12, 10, 0, tzinfo=UTC)  # a Tuesday


def bar(instrument, minute: int, o: str, h: str, lo: str, c: str) -> Bar:
    p = lambda s: instrument.to_points(Decimal(s))  # noqa: E731
    return Bar.objects.create(
        instrument=instrument,
        timeframe=1,
        time=T0 + timedelta(minutes=minute),
        open=p(o),
        high=p(h),
        low=p(lo),
        close=p(c),
        volume=10,
    )


def open_trade(account, instrument, side: str, price: str, sl: str | None, tp: str | None, units="10000") -> Trade:
    return Trade.objects.create(
        account=account,
        instrument=instrument,
        broker_trade_id=f"T{Trade.objects.count() + 1}",
        side=side,
        initial_units=Decimal(units),
        current_units=Decimal(units),
        open_time=T0,
        open_price=Decimal(price),
        stop_loss=Decimal(sl) if sl else None,
        take_profit=Decimal(tp) if tp else None,
    )


@pytest.fixture
def account(paper_account):
    paper_account.paper_processed_until = T0
    paper_account.save()
    return paper_account


def process(account, minutes: int) -> BrokerAccount:
    paper_account_process(account, until=T0 + timedelta(minutes=minutes))
    return BrokerAccount.objects.get(pk=account.pk)


def test_buy_stop_loss_closes_at_the_stop_and_books_the_loss(account, eurusd):
    trade = open_trade(account, eurusd, "buy", "1.10000", sl="1.09900", tp="1.10200")
    bar(eurusd, 0, "1.10000", "1.10050", "1.09950", "1.09990")
    bar(eurusd, 1, "1.09990", "1.10010", "1.09880", "1.09900")

    acct = process(account, 2)

    trade.refresh_from_db()
    assert trade.state == TradeState.CLOSED
    assert trade.close_price == Decimal("1.09900")
    assert trade.close_reason == CloseReason.STOP_LOSS
    assert trade.realized_pl == Decimal("-10.000000")
    assert trade.close_time == T0 + timedelta(minutes=1)
    assert acct.balance == Decimal("9990.000000")


def test_sell_take_profit_is_checked_against_the_ask(account, eurusd):
    trade = open_trade(account, eurusd, "sell", "1.10000", sl="1.10300", tp="1.09800")
    bar(eurusd, 0, "1.09900", "1.09950", "1.09795", "1.09850")  # bid low 1.09795 → ask low 1.09805: not yet
    process(account, 1)
    trade.refresh_from_db()
    assert trade.state == TradeState.OPEN

    bar(eurusd, 1, "1.09850", "1.09860", "1.09785", "1.09800")  # ask low 1.09795 ≤ TP
    process(account, 2)

    trade.refresh_from_db()
    assert trade.state == TradeState.CLOSED
    assert trade.close_price == Decimal("1.09800")
    assert trade.close_reason == CloseReason.TAKE_PROFIT
    assert trade.realized_pl == Decimal("20.000000")


def test_a_gap_through_the_stop_fills_at_the_open(account, eurusd):
    trade = open_trade(account, eurusd, "buy", "1.10000", sl="1.09900", tp=None)
    bar(eurusd, 0, "1.09850", "1.09870", "1.09800", "1.09820")

    process(account, 1)

    trade.refresh_from_db()
    assert trade.close_price == Decimal("1.09850")
    assert trade.realized_pl == Decimal("-15.000000")


def test_stop_loss_wins_when_both_levels_are_inside_one_bar(account, eurusd):
    trade = open_trade(account, eurusd, "buy", "1.10000", sl="1.09900", tp="1.10100")
    bar(eurusd, 0, "1.10000", "1.10150", "1.09850", "1.10000")

    process(account, 1)

    trade.refresh_from_db()
    assert trade.close_reason == CloseReason.STOP_LOSS
    assert trade.close_price == Decimal("1.09900")


def test_buy_stop_triggers_on_the_ask_then_its_stop_works_from_the_next_bar(account, eurusd, ma_like_instance):
    order = Order.objects.create(
        client_order_id="p1",
        account=account,
        instance=ma_like_instance,
        instrument=eurusd,
        intent="open",
        order_type="stop",
        side="buy",
        units=Decimal("10000"),
        price=Decimal("1.10100"),
        stop_loss=Decimal("1.10000"),
        status=OrderStatus.PENDING,
        broker_order_id="7",
    )
    # bid high 1.10095 → ask high 1.10105 ≥ 1.10100; the low of the same bar is below the stop but not checked yet
    bar(eurusd, 0, "1.10050", "1.10095", "1.09990", "1.10080")
    process(account, 1)
    order.refresh_from_db()
    trade = order.trade
    assert order.status == OrderStatus.FILLED
    assert trade.open_price == Decimal("1.10100")
    assert trade.state == TradeState.OPEN
    assert trade.instance == ma_like_instance

    bar(eurusd, 1, "1.10080", "1.10090", "1.09990", "1.10000")
    process(account, 2)
    trade.refresh_from_db()
    assert trade.state == TradeState.CLOSED
    assert trade.realized_pl == Decimal("-10.000000")


def test_pending_order_past_its_expiry_is_cancelled_not_filled(account, eurusd, ma_like_instance):
    order = Order.objects.create(
        client_order_id="p2",
        account=account,
        instance=ma_like_instance,
        instrument=eurusd,
        intent="open",
        order_type="stop",
        side="sell",
        units=Decimal("10000"),
        price=Decimal("1.09900"),
        expires_at=T0 + timedelta(minutes=1),
        status=OrderStatus.PENDING,
        broker_order_id="8",
    )
    bar(eurusd, 0, "1.10000", "1.10010", "1.09950", "1.09960")
    bar(eurusd, 1, "1.09960", "1.09970", "1.09800", "1.09850")  # would trigger, but the order has expired

    process(account, 2)

    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert not Trade.objects.exists()


def test_jpy_quoted_profit_is_converted_to_the_usd_account(account, usdjpy):
    trade = open_trade(account, usdjpy, "buy", "150.000", sl=None, tp="151.000")
    bar(usdjpy, 0, "150.500", "151.200", "150.400", "151.100")

    process(account, 1)

    trade.refresh_from_db()
    # 10,000 units × 1.000 JPY = 10,000 JPY, at 151.000 JPY per USD
    assert trade.realized_pl == (Decimal("10000") / Decimal("151.000")).quantize(Decimal("0.000001"))


def test_market_order_fills_at_bid_plus_spread_and_equity_follows_the_price(account, eurusd, ma_like_instance):
    bar(eurusd, 0, "1.10000", "1.10010", "1.09990", "1.10000")
    order = Order.objects.create(
        client_order_id="m1",
        account=account,
        instance=ma_like_instance,
        instrument=eurusd,
        intent="open",
        order_type="market",
        side="buy",
        units=Decimal("10000"),
        status=OrderStatus.NEW,
    )

    handled = orders_dispatch(account_id=account.pk, instrument_id=eurusd.pk)
    bar(eurusd, 1, "1.10000", "1.10060", "1.09990", "1.10050")
    acct = process(account, 2)

    order.refresh_from_db()
    assert handled == 1
    assert order.status == OrderStatus.FILLED
    assert order.trade.open_price == Decimal("1.10010")  # bid 1.10000 + 10 points
    assert acct.unrealized_pl == Decimal("4.000000")  # (1.10050 - 1.10010) × 10,000
    assert acct.equity == Decimal("10004.000000")
    assert acct.margin_used == Decimal("220.100000")  # 10,000 × 1.10050 × 0.02


def test_manual_close_books_the_pl_and_a_second_request_is_refused(transactional_db, account, eurusd, alice):
    from trading.exceptions import ApplicationError
    from trading.services.trades import trade_close_manual

    trade = open_trade(account, eurusd, "buy", "1.10000", sl=None, tp=None)
    bar(eurusd, 0, "1.10100", "1.10110", "1.10090", "1.10100")

    order = trade_close_manual(trade, user=alice)

    trade.refresh_from_db()
    order.refresh_from_db()
    assert order.status == OrderStatus.DONE
    assert trade.state == TradeState.CLOSED
    assert trade.close_price == Decimal("1.10100")
    assert trade.realized_pl == Decimal("10.000000")
    assert trade.close_reason == CloseReason.MANUAL
    with pytest.raises(ApplicationError, match="already closed"):
        trade_close_manual(trade, user=alice)


def test_dispatched_fill_keeps_the_claim_time_and_writes_the_result(account, eurusd, ma_like_instance):
    # The dispatcher records the fill on the row it claimed (no re-read): the claim's submitted_at stays.
    bar(eurusd, 0, "1.10000", "1.10010", "1.09990", "1.10000")
    order = Order.objects.create(
        client_order_id="m2",
        account=account,
        instance=ma_like_instance,
        instrument=eurusd,
        intent="open",
        order_type="market",
        side="sell",
        units=Decimal("1000"),
        status=OrderStatus.NEW,
    )

    assert orders_dispatch(account_id=account.pk, instrument_id=eurusd.pk, account=account) == 1

    order.refresh_from_db()
    assert order.status == OrderStatus.FILLED
    assert order.submitted_at is not None
    assert order.fill_price == Decimal("1.10000")  # a sell fills at the bid
    assert order.broker_order_id == order.trade.broker_trade_id
    assert order.trade.side == "sell" and order.trade.current_units == Decimal("1000")


def test_rejected_pending_order_consumes_no_transaction_id(account, eurusd, ma_like_instance):
    from brokers.base import InstrumentRef, OrderRequest
    from brokers.errors import BrokerRejectedError
    from trading.venues.paper.ledger import PaperLedger

    bar(eurusd, 0, "1.10000", "1.10010", "1.09990", "1.10000")
    broker = PaperLedger(account)
    before = BrokerAccount.objects.get(pk=account.pk).last_transaction_id
    ref = InstrumentRef(symbol="EURUSD", broker_symbol="EUR_USD", digits=5, unit_precision=0)
    with pytest.raises(BrokerRejectedError, match="positive price"):
        broker.submit_order(
            OrderRequest(
                client_order_id="p0",
                instance_id=77,
                instrument=ref,
                side="buy",
                units=Decimal("1000"),
                order_type="limit",
                price=None,
            )
        )
    assert BrokerAccount.objects.get(pk=account.pk).last_transaction_id == before
    placed = broker.submit_order(
        OrderRequest(
            client_order_id="p1",
            instance_id=77,
            instrument=ref,
            side="buy",
            units=Decimal("1000"),
            order_type="limit",
            price=Decimal("1.09"),
        )
    )
    assert placed.status == "pending"
    assert BrokerAccount.objects.get(pk=account.pk).last_transaction_id == placed.broker_order_id
