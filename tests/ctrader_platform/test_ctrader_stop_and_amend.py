"""Stop orders and amended protection on cTrader, through our dispatch against the fake server over TLS: a stop
entry rests with the magic number and fills when the market reaches it, a resting stop is cancelled, and an open
position's stop loss moved by ``trade_modify`` (ProtoOAAmendPositionSLTPReq) is the level the broker closes at."""

from __future__ import annotations

from decimal import Decimal

from tests.support.fake_ctrader import HEDGED
from trading.models import CloseReason, Order, OrderStatus, Trade
from trading.services.trades import trade_modify
from trading.venues.ctrader.sync import ctrader_account_sync

from .conftest import dispatch

STOP = 3  # ProtoOAOrderType STOP


def test_a_buy_stop_rests_at_the_broker_and_fills_at_its_level_when_the_market_reaches_it(
    fake, ctrader_account, new_order, ct_instance
):
    order = new_order(
        order_type="stop", price=Decimal("1.10200"), stop_loss=Decimal("1.09900"), take_profit=Decimal("1.10600")
    )

    dispatch(order)
    resting = order.status
    sent = fake.orders(order_type=STOP)[0]
    not_yet = Trade.objects.filter(account=ctrader_account).exists()
    fake.set_price("EURUSD", "1.10195", "1.10205")  # the ask reaches the stop
    ctrader_account_sync(ctrader_account)
    order.refresh_from_db()

    assert resting == OrderStatus.PENDING and order.broker_order_id == str(sent.order_id)
    assert (sent.stop_price, sent.side, sent.volume) == (Decimal("1.102"), 1, 1_000_000)
    assert sent.label == f"asirikuy:{ct_instance.pk}" and sent.client_order_id == order.client_order_id
    assert not not_yet
    trade = Trade.objects.get(account=ctrader_account)
    position = fake.account(HEDGED).positions[int(trade.broker_trade_id)]
    assert order.status == OrderStatus.FILLED and order.trade_id == trade.pk
    assert trade.open_price == Decimal("1.10200") and trade.instance_id == ct_instance.pk
    assert (trade.stop_loss, trade.take_profit) == (Decimal("1.09900"), Decimal("1.10600"))
    assert (position.stop_loss, position.take_profit) == (Decimal("1.099"), Decimal("1.106"))


def test_a_resting_sell_stop_is_cancelled_at_the_broker_and_in_the_database(fake, ctrader_account, new_order):
    pending = new_order(side="sell", order_type="stop", price=Decimal("1.09500"))
    dispatch(pending)
    cancel = new_order(side="sell", intent="cancel", target=pending)

    dispatch(cancel)
    pending.refresh_from_db()
    fake.set_price("EURUSD", "1.09400", "1.09410")  # past the old stop: nothing may fill now
    ctrader_account_sync(ctrader_account)

    resting = fake.account(HEDGED).orders[int(pending.broker_order_id)]
    assert cancel.status == OrderStatus.DONE
    assert pending.status == OrderStatus.CANCELLED
    assert resting.status == 5  # ProtoOAOrderStatus ORDER_STATUS_CANCELLED
    assert fake.count("ProtoOACancelOrderReq") == 1
    assert not Trade.objects.filter(account=ctrader_account).exists()


def test_an_amended_stop_loss_is_set_on_the_position_and_is_where_the_broker_closes_it(
    fake, ctrader_account, new_order, alice
):
    entry = new_order(stop_loss=Decimal("1.09500"), take_profit=Decimal("1.10500"))
    dispatch(entry)
    trade = Trade.objects.get(pk=entry.trade_id)
    amends_at_open = fake.count("ProtoOAAmendPositionSLTPReq")

    modify = trade_modify(trade=trade, stop_loss=Decimal("1.09800"), take_profit=None, user=alice, source="api")
    dispatch(modify)
    trade.refresh_from_db()
    position = fake.account(HEDGED).positions[int(trade.broker_trade_id)]
    levels_at_broker = (position.stop_loss, position.take_profit)

    fake.set_price("EURUSD", "1.09790", "1.09800")  # through the new stop, above the old one
    ctrader_account_sync(ctrader_account)
    closed = Trade.objects.get(pk=trade.pk)

    assert modify.status == OrderStatus.DONE
    assert fake.count("ProtoOAAmendPositionSLTPReq") == amends_at_open + 1
    assert levels_at_broker == (Decimal("1.098"), Decimal("1.105"))  # the take profit kept, not removed
    assert (trade.stop_loss, trade.take_profit) == (Decimal("1.09800"), Decimal("1.10500"))
    assert closed.state == "closed" and closed.close_reason == CloseReason.STOP_LOSS
    assert closed.close_price == Decimal("1.09800")
    assert Order.objects.filter(trade=trade, intent="modify").count() == 1
