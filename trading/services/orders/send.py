"""Sending one claimed order through a broker client: the request, the intent, the answer.

Shared by every venue. An order is claimed first with a conditional UPDATE (NEW → SUBMITTING), so two
dispatchers never send the same order; ``order_send`` then does what the order's intent asks of the
broker and returns the broker's answer for ``orders.record`` to store.
"""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from brokers.base import BrokerClient, InstrumentRef, OrderRequest, OrderResult, OrderTypeLiteral, SideLiteral
from trading.models import Instrument, Order, OrderIntent, OrderStatus, Trade

_SIDES: dict[str, SideLiteral] = {"buy": "buy", "sell": "sell"}
_TYPES: dict[str, OrderTypeLiteral] = {"market": "market", "limit": "limit", "stop": "stop"}


def instrument_ref(instrument: Instrument) -> InstrumentRef:
    """How a broker client names an instrument of ours."""
    return InstrumentRef(
        symbol=instrument.symbol,
        broker_symbol=instrument.broker_symbol or f"{instrument.base_currency}_{instrument.quote_currency}",
        digits=instrument.digits,
        unit_precision=instrument.unit_precision,
    )


def order_request(order: Order) -> OrderRequest:
    """The broker request of an entry order; the magic number travels with it."""
    return OrderRequest(
        client_order_id=order.client_order_id,
        instance_id=order.instance_id or 0,
        instrument=instrument_ref(order.instrument),
        side=_SIDES[order.side],
        units=order.units,
        order_type=_TYPES[order.order_type],
        price=order.price if order.order_type != "market" else None,
        stop_loss=order.stop_loss,
        take_profit=order.take_profit,
        trailing_distance=order.trailing_distance,
        expires_at=order.expires_at,
    )


def order_claim(order_id: int) -> bool:
    """NEW → SUBMITTING, once: True for the one caller that may send the order."""
    return (
        Order.objects.filter(pk=order_id, status=OrderStatus.NEW).update(
            status=OrderStatus.SUBMITTING, submitted_at=timezone.now()
        )
        == 1
    )


def orders_claim(order_ids: list[int]) -> set[int]:
    """``order_claim`` for many orders in one UPDATE … RETURNING: the ids this caller may send."""
    if not order_ids:
        return set()
    marks = ", ".join(["%s"] * len(order_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Order._meta.db_table} SET status = %s, submitted_at = %s WHERE id IN ({marks}) AND status = %s"
            " RETURNING id",
            [
                OrderStatus.SUBMITTING.value,
                connection.ops.adapt_datetimefield_value(timezone.now()),
                *order_ids,
                OrderStatus.NEW.value,
            ],
        )
        return {row[0] for row in cursor.fetchall()}


def order_send(client: BrokerClient, order: Order) -> OrderResult:
    """Do what ``order`` asks of the broker (open, close, modify, cancel) and return the broker's answer."""
    if order.intent == OrderIntent.OPEN:
        return client.submit_order(order_request(order))
    if order.intent == OrderIntent.CLOSE:
        if order.trade is None:
            raise ValueError(f"close order {order.pk} names no trade")
        result = client.close_trade(order.trade.broker_trade_id, units=None)
        return OrderResult(
            status=result.status,
            client_order_id=order.client_order_id,
            broker_order_id=result.broker_order_id,
            fill=result.fill,
            reason=result.reason,
            last_transaction_id=result.last_transaction_id,
        )
    if order.intent == OrderIntent.MODIFY:
        trade = order.trade
        if trade is None:
            raise ValueError(f"modify order {order.pk} names no trade")
        client.modify_trade(
            trade.broker_trade_id,
            stop_loss=order.stop_loss,
            take_profit=order.take_profit,
            trailing_distance=order.trailing_distance,
        )
        Trade.objects.filter(pk=trade.pk).update(
            stop_loss=order.stop_loss if order.stop_loss is not None else trade.stop_loss,
            take_profit=order.take_profit if order.take_profit is not None else trade.take_profit,
        )
        return OrderResult(status="filled", client_order_id=order.client_order_id)
    if order.intent == OrderIntent.CANCEL:
        if order.target is None:
            raise ValueError(f"cancel order {order.pk} names no target")
        client.cancel_order(order.target.broker_order_id)
        Order.objects.filter(pk=order.target.pk, status=OrderStatus.PENDING).update(
            status=OrderStatus.CANCELLED, reject_reason="cancelled by strategy"
        )
        return OrderResult(status="filled", client_order_id=order.client_order_id)
    raise ValueError(f"order {order.pk} has an unknown intent {order.intent!r}")
