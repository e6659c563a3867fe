"""SL and TP hits at the broker reach our trade history with their reason and realised P/L."""

from __future__ import annotations

from decimal import Decimal

from trading.models import BrokerAccount, CloseReason, Trade, TradeState
from trading.services.orders.dispatch import orders_dispatch
from trading.venues.oanda.sync import oanda_account_sync, oanda_account_sync_report


def _fill(order) -> Trade:
    orders_dispatch(account_id=order.account_id, instrument_id=order.instrument_id)
    order.refresh_from_db()
    return Trade.objects.get(pk=order.trade_id)


def test_take_profit_and_stop_loss_closes_are_recorded_with_reason_and_pl(fake, oanda_account, new_order, hand):
    # Buy 1000 at the ask 1.10010 with TP 1.11000; the bid reaches 1.11000.
    tp_trade = _fill(new_order(units="1000", take_profit=Decimal("1.11000"), stop_loss=Decimal("1.09000")))
    fake.set_price("EUR_USD", "1.11000", "1.11010")
    # Buy 2000 at the ask 1.11010 with SL 1.10500; the bid falls to 1.10400 and the stop fills there.
    sl_trade = _fill(new_order(units="2000", stop_loss=Decimal("1.10500")))
    fake.set_price("EUR_USD", "1.10400", "1.10410")

    report = oanda_account_sync_report(oanda_account)
    tp_trade.refresh_from_db()
    sl_trade.refresh_from_db()
    oanda_account.refresh_from_db()

    assert report.applied > 0
    assert tp_trade.state == TradeState.CLOSED
    assert tp_trade.close_reason == CloseReason.TAKE_PROFIT
    assert tp_trade.close_price == Decimal("1.11000")
    assert tp_trade.realized_pl == (Decimal("1.11000") - Decimal("1.10010")) * 1000  # 9.90
    assert sl_trade.state == TradeState.CLOSED
    assert sl_trade.close_reason == CloseReason.STOP_LOSS
    assert sl_trade.close_price == Decimal("1.10400")
    assert sl_trade.realized_pl == (Decimal("1.10400") - Decimal("1.11010")) * 2000  # -12.20
    assert oanda_account.balance == Decimal("100000") + Decimal("9.90") - Decimal("12.20")
    assert oanda_account.last_transaction_id == str(fake.account().last)
    assert report.open_trades_broker == report.open_trades_db == 0
    assert hand.list_open_trades() == []


def test_sync_applies_each_transaction_once_and_keeps_open_trades_equal(fake, oanda_account, new_order, hand):
    trade = _fill(new_order(units="3000"))
    hand.close_trade(trade.broker_trade_id, units=Decimal("1000"))  # a partial close by hand
    fake.set_price("EUR_USD", "1.10100", "1.10110")

    first = oanda_account_sync_report(oanda_account)
    second = oanda_account_sync_report(oanda_account)
    trade.refresh_from_db()

    assert first.applied > 0
    assert second.applied == 0
    assert trade.state == TradeState.OPEN
    assert trade.current_units == Decimal("2000")
    assert trade.realized_pl == (Decimal("1.10000") - Decimal("1.10010")) * 1000
    broker = {t.broker_trade_id: t.current_units for t in hand.list_open_trades()}
    ours = dict(
        Trade.objects.filter(account=oanda_account, state=TradeState.OPEN).values_list(
            "broker_trade_id", "current_units"
        )
    )
    assert broker == ours
    assert first.open_trades_broker == first.open_trades_db == 1


def test_first_sync_starts_at_the_current_transaction(fake, oanda_account):
    BrokerAccount.objects.filter(pk=oanda_account.pk).update(last_transaction_id="")

    applied = oanda_account_sync(oanda_account)
    oanda_account.refresh_from_db()

    assert applied == 0
    assert oanda_account.last_transaction_id == str(fake.account().last)
