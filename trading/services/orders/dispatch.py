"""Sending NEW orders to the broker, one instrument at a time, in creation order.

Each order is claimed with a conditional UPDATE (NEW → SUBMITTING), so two dispatchers never send the
same order. A lost answer is resolved by asking the broker for the client order id before anything
else; an order whose outcome stays unknown is parked as UNKNOWN for reconciliation, never resent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from brokers.base import BrokerClient, OrderRequest, OrderResult
from brokers.errors import (
    BrokerAuthError,
    BrokerError,
    BrokerRejectedError,
    BrokerTemporaryError,
    BrokerUnknownOutcomeError,
)
from risk.services.kill_switch import kill_switch_engaged
from risk.services.market_hours import order_may_send, orders_queued
from trading.models import Broker, BrokerAccount, Order, OrderIntent, OrderStatus
from trading.services.broker_clients import broker_for, instrument_ref
from trading.services.oanda.orders import order_lookup, order_park_unknown, order_submission_mark
from trading.services.orders.record import order_record_claimed, order_record_result
from trading.services.prices import prices_memo
from trading.services.virtual.execute import virtual_orders_execute

logger = logging.getLogger(__name__)
LOCK_SECONDS = 120


@contextmanager
def _instrument_lock(account_id: int, instrument_id: int) -> Iterator[bool]:
    key = f"asirikuy:dispatch-lock:{account_id}:{instrument_id}"
    acquired = cache.add(key, "1", LOCK_SECONDS)
    try:
        yield acquired
    finally:
        if acquired:
            cache.delete(key)


def _request_for(order: Order) -> OrderRequest:
    return OrderRequest(
        client_order_id=order.client_order_id,
        instance_id=order.instance_id or 0,
        instrument=instrument_ref(order.instrument),
        side=order.side,  # type: ignore[arg-type]
        units=order.units,
        order_type=order.order_type,  # type: ignore[arg-type]
        price=order.price if order.order_type != "market" else None,
        stop_loss=order.stop_loss,
        take_profit=order.take_profit,
        trailing_distance=order.trailing_distance,
        expires_at=order.expires_at,
    )


def _send(broker: BrokerClient, order: Order) -> OrderResult:
    if order.netting and getattr(broker, "in_process", False):
        # Virtual mode: the paper broker hedges, so the net position is reduced FIFO here (virtual/README.md).
        from trading.services.virtual.netting import paper_netting_fill

        return paper_netting_fill(broker, order)
    if order.intent == OrderIntent.OPEN:
        return broker.submit_order(_request_for(order))
    if order.intent == OrderIntent.CLOSE:
        assert order.trade is not None
        result = broker.close_trade(order.trade.broker_trade_id, units=None)
        return OrderResult(
            status=result.status,
            client_order_id=order.client_order_id,
            broker_order_id=result.broker_order_id,
            fill=result.fill,
            reason=result.reason,
            last_transaction_id=result.last_transaction_id,
        )
    if order.intent == OrderIntent.MODIFY:
        assert order.trade is not None
        broker.modify_trade(
            order.trade.broker_trade_id,
            stop_loss=order.stop_loss,
            take_profit=order.take_profit,
            trailing_distance=order.trailing_distance,
        )
        from trading.models import Trade

        Trade.objects.filter(pk=order.trade_id).update(
            stop_loss=order.stop_loss if order.stop_loss is not None else order.trade.stop_loss,
            take_profit=order.take_profit if order.take_profit is not None else order.trade.take_profit,
        )
        return OrderResult(status="filled", client_order_id=order.client_order_id)
    if order.intent == OrderIntent.CANCEL:
        assert order.target is not None
        broker.cancel_order(order.target.broker_order_id)
        Order.objects.filter(pk=order.target_id, status=OrderStatus.PENDING).update(
            status=OrderStatus.CANCELLED, reject_reason="cancelled by strategy"
        )
        return OrderResult(status="filled", client_order_id=order.client_order_id)
    raise ValueError(f"order {order.pk} has an unknown intent {order.intent!r}")


def _claim(order_id: int) -> bool:
    return (
        Order.objects.filter(pk=order_id, status=OrderStatus.NEW).update(
            status=OrderStatus.SUBMITTING, submitted_at=timezone.now()
        )
        == 1
    )


def _dispatch_one(broker: BrokerClient, order: Order, kill_switch: bool | None = None) -> None:
    # A netting order carries virtual orders that already passed this gate (and exits must reach the broker).
    # risk: kill switch stops entries; market closed → drop or queue
    if not order.netting and not order_may_send(order, timezone.now(), kill_switch=kill_switch):
        return
    in_process = getattr(broker, "in_process", False)
    if in_process:
        # The paper broker is the database: send and record in one transaction.
        with transaction.atomic():
            if not _claim(order.pk):
                return
            try:
                result = _send(broker, order)
            except BrokerRejectedError as e:
                result = OrderResult(status="rejected", client_order_id=order.client_order_id, reason=str(e))
            order_record_claimed(order, result)  # claimed above, in this transaction: no second read of the row
        return
    if not _claim(order.pk):
        return
    if order.intent == OrderIntent.OPEN:
        order_submission_mark(broker, order)
    try:
        result = _send(broker, order)
    except BrokerUnknownOutcomeError as lost:
        # Never resend here: look the order up in the transactions since it was sent, else park it.
        note = f"outcome unknown: {lost}"
        try:
            found = order_lookup(broker, order) if order.intent == OrderIntent.OPEN else None
        except BrokerError as lookup_error:
            found = None
            note = f"outcome unknown and lookup failed: {lookup_error}"
        if found is None:
            order_park_unknown(order, note)
            logger.warning("order %s: outcome unknown after a lost answer; parked for the resolver", order.pk)
            return
        result = found
    except BrokerRejectedError as e:
        result = OrderResult(status="rejected", client_order_id=order.client_order_id, reason=e.reason or str(e))
    except (BrokerTemporaryError, BrokerAuthError):
        # Nothing reached the broker: give the order back so a later dispatch sends it.
        Order.objects.filter(pk=order.pk, status=OrderStatus.SUBMITTING).update(status=OrderStatus.NEW)
        raise
    order_record_result(order, result)


def orders_dispatch(*, account_id: int, instrument_id: int, account: BrokerAccount | None = None) -> int:
    """Send every NEW order of one account and instrument, oldest first. Returns how many were handled.

    ``account``: the account row when the caller already holds it (a run's after-commit dispatch).
    """
    if account is None or account.pk != account_id:
        account = BrokerAccount.objects.get(pk=account_id)
    broker = broker_for(account)
    remember_instrument = getattr(broker, "instrument_known", None)
    handled = 0
    while True:
        # prices_memo: the paper broker quotes each order of a pass from the same newest bar, read once.
        with _instrument_lock(account_id, instrument_id) as acquired, prices_memo():
            if not acquired:
                return handled  # another dispatcher holds this instrument and will see our orders
            if account.virtual_mode:
                # Virtual order mode: strategy orders are executed against the virtual book here, under the
                # same lock; what is left to send is one netting order (trading/services/virtual/README.md).
                handled += virtual_orders_execute(account=account, instrument_id=instrument_id)
            # The rows in one query, sorted here: ORDER BY id would walk the primary key past every old order.
            orders = sorted(
                _new_orders(account_id, instrument_id).select_related("instrument", "trade", "target"),
                key=lambda o: o.pk,
            )
            for order in orders:
                order.account = account  # the same row for every order: loaded once, not once per order
                if remember_instrument is not None:
                    remember_instrument(order.instrument)
            # The kill switch once per pass (under the lock), not once per order: a pass takes well under a second.
            kill_switch = (
                kill_switch_engaged(account_id)
                if any(o.intent == OrderIntent.OPEN and not o.netting for o in orders)
                else None
            )
            for order in orders:
                _dispatch_one(broker, order, kill_switch)
                handled += 1
        # Checked after the lock is released: an order created meanwhile, whose own dispatcher found the lock
        # taken, would otherwise wait for the next run.
        if not _new_orders(account_id, instrument_id).exists():
            return handled


def _new_orders(account_id: int, instrument_id: int) -> QuerySet[Order]:
    return (
        Order.objects.filter(account_id=account_id, instrument_id=instrument_id, status=OrderStatus.NEW)
        .exclude(pk__in=orders_queued())  # held by risk until the market opens
        .order_by()
    )


def orders_dispatch_after_commit(*, account: BrokerAccount, instrument_id: int) -> None:
    """Send the account's NEW orders for one instrument once the current transaction commits.

    The paper broker is in-process, so its orders go out at once in this process; real brokers get a
    task on the broker_io queue, whose threaded worker overlaps round trips across instruments.
    """

    def run() -> None:
        if account.broker == Broker.PAPER:
            # Fills move the balance at once; equity and margin are revalued at the next bar (minute tick
            # or the next run), not after every order, which would cost a pass over all open trades.
            orders_dispatch(account_id=account.pk, instrument_id=instrument_id, account=account)
        else:
            from trading.tasks import orders_dispatch_task

            orders_dispatch_task.apply_async(
                kwargs={"account_id": account.pk, "instrument_id": instrument_id}, queue="broker_io"
            )

    transaction.on_commit(run)
