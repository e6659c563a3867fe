"""Executing a virtual account's orders against the virtual book, and queueing the netting order.

Called by dispatch (under its per-instrument lock) before anything is sent, so every path that writes NEW
orders (strategy runs, manual closes, risk actions) goes through it. An order is claimed NEW → SUBMITTING
with a conditional update, executed at the broker's current price as a market order would be, and the
signed change of all orders of the batch becomes ONE netting market order (a NEW order dispatch sends next).
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from django.db import transaction
from django.utils import timezone

from brokers.base import Quote
from risk.services.market_hours import order_may_send, orders_queued
from trading.models import (
    BrokerAccount,
    CloseReason,
    Instrument,
    Order,
    OrderIntent,
    OrderStatus,
    Side,
    Trade,
)
from trading.services.virtual.book import (
    VirtualEvent,
    signed,
    virtual_quote,
    virtual_trade_close,
    virtual_trade_open,
)

logger = logging.getLogger(__name__)


def _is_virtual_work(order: Order) -> bool:
    if order.intent == OrderIntent.OPEN:
        return order.instance_id is not None
    if order.intent in (OrderIntent.CLOSE, OrderIntent.MODIFY):
        return order.trade is not None and (order.trade.virtual or order.trade.netting)
    return order.target is not None and order.target.virtual


def _finish(order: Order, status: str, **fields: object) -> None:
    Order.objects.filter(pk=order.pk, status=OrderStatus.SUBMITTING).update(status=status, **fields)


def _execute_one(order: Order, quote: Quote, now: datetime) -> VirtualEvent | None:
    if order.intent == OrderIntent.OPEN:
        if order.order_type != "market":
            _finish(order, OrderStatus.PENDING, broker_order_id=f"V{order.pk}")
            return None
        price = quote.ask if order.side == Side.BUY else quote.bid
        opened = virtual_trade_open(
            order_id=order.pk,
            account=order.account,
            instrument=order.instrument,
            instance_id=order.instance_id,
            side=order.side,
            units=order.units,
            price=price,
            time=quote.time,
            stop_loss=order.stop_loss,
            take_profit=order.take_profit,
            trailing_distance=order.trailing_distance,
        )
        _finish(order, OrderStatus.FILLED, fill_price=price, filled_at=quote.time, trade=opened)
        return VirtualEvent(order.pk, signed(order.side, order.units), price)
    if order.intent == OrderIntent.CANCEL:
        assert order.target is not None
        Order.objects.filter(pk=order.target.pk, status=OrderStatus.PENDING, virtual=True).update(
            status=OrderStatus.CANCELLED, reject_reason="cancelled by strategy" if order.execution_id else "cancelled"
        )
        _finish(order, OrderStatus.DONE)
        return None
    trade = order.trade
    assert trade is not None
    if trade.netting:
        # The net position follows the virtual trades: closing it by hand would leave them uncovered.
        _finish(order, OrderStatus.REJECTED, reject_reason="netting trade: close the virtual trades, or repair the net")
        return None
    if order.intent == OrderIntent.MODIFY:
        Trade.objects.filter(pk=trade.pk).update(
            stop_loss=order.stop_loss if order.stop_loss is not None else trade.stop_loss,
            take_profit=order.take_profit if order.take_profit is not None else trade.take_profit,
        )
        _finish(order, OrderStatus.DONE)
        return None
    price = quote.bid if trade.side == Side.BUY else quote.ask
    units = trade.current_units
    reason = CloseReason.STRATEGY if order.execution_id else CloseReason.MANUAL
    if not virtual_trade_close(trade, price=price, time=quote.time, reason=reason):
        _finish(order, OrderStatus.REJECTED, reject_reason="trade already closed")
        return None
    _finish(order, OrderStatus.DONE, fill_price=price, filled_at=quote.time)
    return VirtualEvent(order.pk, -signed(trade.side, units), price)


def virtual_orders_execute(*, account: BrokerAccount, instrument_id: int) -> int:
    """Execute the account's NEW virtual work for one instrument; returns how many orders were executed."""
    ids = sorted(
        Order.objects.filter(account=account, instrument_id=instrument_id, status=OrderStatus.NEW, netting=False)
        .exclude(pk__in=orders_queued())
        .values_list("pk", flat=True)
    )
    orders = [
        o
        for o in Order.objects.filter(pk__in=ids)
        .select_related("account", "instrument", "trade", "target")
        .order_by("pk")
        if _is_virtual_work(o)
    ]
    if not orders:
        return 0
    instrument = orders[0].instrument
    quote = virtual_quote(account, instrument)
    now = timezone.now()
    done = 0
    with transaction.atomic():
        events: list[VirtualEvent] = []
        for order in orders:
            if not order_may_send(order, now):  # risk: kill switch and market hours, as for real orders
                continue
            if (
                Order.objects.filter(pk=order.pk, status=OrderStatus.NEW).update(
                    status=OrderStatus.SUBMITTING, virtual=True, submitted_at=now
                )
                != 1
            ):
                continue
            event = _execute_one(order, quote, now)
            done += 1
            if event is not None:
                events.append(event)
        netting_order_queue(account=account, instrument=instrument, events=events, time=quote.time)
    return done


def netting_order_queue(
    *, account: BrokerAccount, instrument: Instrument, events: list[VirtualEvent], time: datetime
) -> Order | None:
    """One NEW market order for the net change of ``events`` (None when they cross out internally).

    The virtual orders on the side of the net change are linked to it (``netting_order``): their prices
    and costs are replaced by the real fill's when it comes. The others crossed inside the platform.
    """
    total = sum((e.delta for e in events), Decimal(0))
    if total == 0:
        return None
    served = [e for e in events if e.delta * total > 0]
    size = sum((abs(e.delta) for e in served), Decimal(0))
    reference = (sum((abs(e.delta) * e.price for e in served), Decimal(0)) / size).quantize(
        Decimal(1).scaleb(-instrument.digits), rounding=ROUND_HALF_EVEN
    )
    order = Order.objects.create(
        client_order_id=f"vnet{account.pk}-{min(e.order_id for e in events)}",
        account=account,
        instance=None,
        instrument=instrument,
        intent=OrderIntent.OPEN,
        order_type="market",
        side=Side.BUY if total > 0 else Side.SELL,
        units=abs(total),
        price=reference,
        netting=True,
        status=OrderStatus.NEW,
        bar_time=time,
    )
    Order.objects.filter(pk__in=[e.order_id for e in served]).update(netting_order=order)
    logger.info("account %s %s: netting order %s for %s units", account.pk, instrument.symbol, order.pk, total)
    return order
