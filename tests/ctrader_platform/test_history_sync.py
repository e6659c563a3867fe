"""Complete history from cTrader deals: stop loss, take profit, a person's close, a stop-out and a partial close,
each with its P/L, swap and commission computed by hand below."""

from __future__ import annotations

from decimal import Decimal

from tests.support.fake_ctrader import HEDGED
from trading.models import BrokerAccount, CloseReason, OrderIntent, Trade
from trading.venues.ctrader.sync import ctrader_account_sync

from .conftest import dispatch


def _open(fake, new_order, **fields):
    order = new_order(**fields)
    dispatch(order)
    return Trade.objects.get(pk=order.trade_id)


def test_take_profit_close_with_swap_and_commission(fake, ctrader_account, new_order):
    fake.broker.commission_per_lot = 700  # 7.00 USD per 100,000 units per side
    trade = _open(fake, new_order, units="10000", stop_loss=Decimal("1.09900"), take_profit=Decimal("1.10300"))
    fake.charge_swap(int(trade.broker_trade_id), -35)  # one night: -0.35 USD

    fake.set_price("EURUSD", "1.10300", "1.10310")
    report = ctrader_account_sync(ctrader_account)

    trade.refresh_from_db()
    account = BrokerAccount.objects.get(pk=ctrader_account.pk)
    # bought 10,000 at the ask 1.10010, closed by the take profit at 1.10300: (1.10300 - 1.10010) * 10,000 = 29.00
    assert trade.state == "closed" and trade.close_reason == CloseReason.TAKE_PROFIT
    assert trade.close_price == Decimal("1.10300")
    assert trade.realized_pl == Decimal("29.00")
    assert trade.financing == Decimal("-0.35")
    # 0.70 at the open (10,000 units = 0.1 lot at 7.00), 0.70 at the close
    assert trade.commission == Decimal("-1.40")
    assert account.balance == Decimal("100000") - Decimal("0.70") + Decimal("29.00") - Decimal("0.35") - Decimal("0.70")
    assert report.applied == 2  # both deals passed the cursor; the opening one was recorded from the order's answer
    assert Trade.objects.filter(account=ctrader_account).count() == 1


def test_stop_loss_close_of_a_sell_converts_yen_to_dollars(fake, ctrader_account, new_order, ct_usdjpy):
    order = new_order(side="sell", units="10000", instrument=ct_usdjpy, stop_loss=Decimal("150.500"))
    dispatch(order)
    trade = Trade.objects.get(pk=order.trade_id)

    fake.set_price("USDJPY", "150.490", "150.500")
    ctrader_account_sync(ctrader_account)

    trade.refresh_from_db()
    # sold 10,000 at the bid 150.000, stopped at 150.500: (150.000 - 150.500) * 10,000 = -5,000 JPY,
    # in USD at the closing price: -5,000 / 150.500 = -33.2226 -> -33.22
    assert trade.close_reason == CloseReason.STOP_LOSS
    assert trade.close_price == Decimal("150.500")
    assert trade.realized_pl == Decimal("-33.22")


def test_a_persons_close_and_a_stop_out_are_told_apart(fake, ctrader_account, new_order):
    first = _open(fake, new_order, units="10000")
    second = _open(fake, new_order, units="20000")

    fake.set_price("EURUSD", "1.10100", "1.10110")
    fake.manual_close(int(first.broker_trade_id))
    fake.manual_close(int(second.broker_trade_id), stop_out=True)
    ctrader_account_sync(ctrader_account)

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.close_reason == CloseReason.MANUAL
    assert first.realized_pl == Decimal("9.00")  # (1.10100 - 1.10010) * 10,000
    assert second.close_reason == CloseReason.MARGIN_CLOSEOUT
    assert second.realized_pl == Decimal("18.00")  # (1.10100 - 1.10010) * 20,000


def test_partial_close_by_the_platform_then_the_rest_by_history(fake, ctrader_account, new_order, ct_instance):
    from trading.models import Order, OrderStatus

    trade = _open(fake, new_order, units="30000")
    fake.set_price("EURUSD", "1.10210", "1.10220")
    from trading.venues import venue_for

    result = venue_for(ctrader_account).client.close_trade(trade.broker_trade_id, units=Decimal("10000"))
    from trading.services.orders.record import fill_record

    assert result.fill is not None
    fill_record(
        account=ctrader_account,
        instrument=trade.instrument,
        fill=result.fill,
        instance_id=None,
        order=None,
        close_reason=CloseReason.STRATEGY,
    )
    trade.refresh_from_db()
    partly = (trade.state, trade.current_units, trade.realized_pl)
    close = Order.objects.create(
        client_order_id="close-rest",
        account=ctrader_account,
        instance=ct_instance,
        instrument=trade.instrument,
        intent=OrderIntent.CLOSE,
        side="sell",
        units=trade.current_units,
        trade=trade,
        status=OrderStatus.NEW,
    )
    dispatch(close)
    ctrader_account_sync(ctrader_account)
    trade.refresh_from_db()

    # 10,000 closed at the bid 1.10210: (1.10210 - 1.10010) * 10,000 = 20.00; the other 20,000 also 40.00
    assert partly == ("open", Decimal("20000"), Decimal("20.00"))
    assert close.refresh_from_db() is None and close.status == OrderStatus.DONE
    assert trade.state == "closed" and trade.current_units == 0
    assert trade.realized_pl == Decimal("60.00")
    assert not fake.account(HEDGED).positions


def test_sync_is_idempotent_and_a_second_pass_applies_nothing(fake, ctrader_account, new_order):
    trade = _open(fake, new_order, units="10000", take_profit=Decimal("1.10100"))
    fake.set_price("EURUSD", "1.10100", "1.10110")

    first = ctrader_account_sync(ctrader_account)
    second = ctrader_account_sync(ctrader_account)

    trade.refresh_from_db()
    assert first.applied == 2 and second.applied == 0
    assert trade.realized_pl == Decimal("9.00")
    assert BrokerAccount.objects.get(pk=ctrader_account.pk).last_transaction_id == first.cursor
