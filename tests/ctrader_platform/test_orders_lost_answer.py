"""Orders on cTrader through our dispatch: the magic number on every order, and a lost answer placed once."""

from __future__ import annotations

from decimal import Decimal

from tests.support.fake_ctrader import HEDGED
from trading.models import Order, OrderStatus, OrderSubmission, Trade
from trading.services.orders.resolve import orders_resolve_unknown
from trading.venues.ctrader.sync import ctrader_account_sync

from .conftest import dispatch


def test_market_order_carries_the_magic_number_and_its_stops_reach_the_position(fake, new_order, ct_instance):
    order = new_order(stop_loss=Decimal("1.09500"), take_profit=Decimal("1.10500"))

    dispatch(order)

    trade = Trade.objects.get(account=order.account)
    sent = fake.orders(order_type=1)[0]
    position = fake.account(HEDGED).positions[int(trade.broker_trade_id)]
    assert order.status == OrderStatus.FILLED
    assert sent.client_order_id == order.client_order_id
    assert sent.label == f"asirikuy:{ct_instance.pk}"
    assert order.client_order_id in sent.comment and str(ct_instance.pk) in sent.comment
    assert sent.volume == 1_000_000  # 10,000 units in cents of a unit
    assert (position.stop_loss, position.take_profit) == (Decimal("1.095"), Decimal("1.105"))
    assert trade.instance_id == ct_instance.pk and trade.open_price == Decimal("1.10010")
    assert (trade.stop_loss, trade.take_profit) == (Decimal("1.09500"), Decimal("1.10500"))


def test_lost_answer_is_found_by_client_id_and_placed_once(fake, ctrader_account, new_order):
    order = new_order()
    fake.inject("drop_after", "ProtoOANewOrderReq")

    dispatch(order)
    resolved = orders_resolve_unknown()
    ctrader_account_sync(ctrader_account)

    trade = Trade.objects.get(account=ctrader_account)
    assert order.status == OrderStatus.FILLED
    assert order.trade_id == trade.pk and trade.instance_id == order.instance_id
    assert trade.broker_trade_id == str(fake.deals()[0].position_id)
    assert fake.count("ProtoOANewOrderReq") == 1
    assert len(fake.deals()) == 1
    assert resolved == {}
    assert OrderSubmission.objects.get(order=order).since_transaction_id != ""


def test_lost_answer_with_failing_lookups_is_parked_then_the_resolver_finds_it(fake, ctrader_account, new_order):
    order = new_order()
    fake.inject("drop_after", "ProtoOANewOrderReq")
    fake.inject("error", "ProtoOAOrderListReq", times=1000, code="SERVER_IS_UNDER_MAINTENANCE")

    dispatch(order)
    parked = order.status
    orders_resolve_unknown()  # the broker still cannot be asked: nothing is sent
    order.refresh_from_db()
    still_parked = order.status
    fake.clear_faults()
    outcomes = orders_resolve_unknown()
    order.refresh_from_db()

    assert parked == OrderStatus.UNKNOWN and still_parked == OrderStatus.UNKNOWN
    assert outcomes == {order.pk: "found: filled"}
    assert order.status == OrderStatus.FILLED
    assert Trade.objects.get(account=ctrader_account).instance_id == order.instance_id
    assert fake.count("ProtoOANewOrderReq") == 1


def test_history_sync_settles_an_unknown_order_from_its_deal(fake, ctrader_account, new_order):
    order = new_order()
    fake.inject("drop_after", "ProtoOANewOrderReq")
    fake.inject("error", "ProtoOAOrderListReq", times=1000, code="SERVER_IS_UNDER_MAINTENANCE")
    dispatch(order)
    fake.clear_faults()

    report = ctrader_account_sync(ctrader_account)
    order.refresh_from_db()

    assert report.applied == 1
    assert order.status == OrderStatus.FILLED
    assert Trade.objects.get(account=ctrader_account, state="open").instance_id == order.instance_id
    assert fake.count("ProtoOANewOrderReq") == 1


def test_order_the_broker_never_received_is_sent_once_more_by_the_resolver(settings, fake, ctrader_account, new_order):
    settings.ORDER_LOOKUP_GRACE_SECONDS = 0
    order = new_order()
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.UNKNOWN)  # as after a lost answer with no trace
    OrderSubmission.objects.create(order=order, since_transaction_id=str(fake.account().deals and 0 or 1))

    first = orders_resolve_unknown()
    second = orders_resolve_unknown()
    order.refresh_from_db()

    assert first == {order.pk: "resent: filled"}
    assert second == {}
    assert order.status == OrderStatus.FILLED
    assert fake.count("ProtoOANewOrderReq") == 1


def test_refused_order_is_rejected_with_the_broker_code_and_not_retried(fake, new_order):
    order = new_order(units="1500")  # not a multiple of the 1,000-unit volume step

    dispatch(order)

    assert order.status == OrderStatus.REJECTED
    assert "UNITS_STEP" in order.reject_reason
    assert fake.count("ProtoOANewOrderReq") == 0  # refused before sending


def test_broker_rejection_is_recorded_with_its_code(fake, new_order):
    order = new_order()
    fake.inject("error", "ProtoOANewOrderReq", code="NOT_ENOUGH_MONEY")

    dispatch(order)

    assert order.status == OrderStatus.REJECTED
    assert "NOT_ENOUGH_MONEY" in order.reject_reason


def test_pending_limit_order_rests_then_fills_when_the_market_reaches_it(fake, ctrader_account, new_order):
    order = new_order(order_type="limit", price=Decimal("1.09800"), take_profit=Decimal("1.10500"))

    dispatch(order)
    resting = order.status
    fake.set_price("EURUSD", "1.09790", "1.09800")
    ctrader_account_sync(ctrader_account)
    order.refresh_from_db()

    trade = Trade.objects.get(account=ctrader_account)
    assert resting == OrderStatus.PENDING and order.broker_order_id
    assert order.status == OrderStatus.FILLED
    assert trade.open_price == Decimal("1.09800") and trade.instance_id == order.instance_id
    assert trade.take_profit == Decimal("1.10500")
