"""The periodic resolver of UNKNOWN orders (their answer was lost), for every venue that can lose one.

An order the broker has no trace of stays UNKNOWN until the resolver proves it absent (``orders.lost``
looks it up by client id since the transaction stored before it was sent); only then, and only while the
order is still young enough to be worth placing, is it sent once more through ``submit_order_idempotent``,
which looks it up again immediately before sending. No path sends an order the broker may have.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from brokers.base import BrokerClient, OrderResult
from brokers.errors import BrokerError, BrokerNotFoundError, BrokerRejectedError, BrokerUnknownOutcomeError
from trading.models import BrokerAccount, Order, OrderIntent, OrderStatus
from trading.services.orders.lost import order_lookup, order_park_unknown, order_submission_since
from trading.services.orders.record import order_record_result
from trading.services.orders.send import order_request
from trading.venues import venue_class, venue_for

logger = logging.getLogger(__name__)


def _resend_max_age() -> timedelta:
    """A market order older than this is not worth placing any more: it is cancelled instead."""
    return timedelta(seconds=settings.ORDER_MAX_AGE_SECONDS)


def _lookup_grace() -> timedelta:
    """Give a request in flight this long to show up at the broker before calling it absent."""
    return timedelta(seconds=settings.ORDER_LOOKUP_GRACE_SECONDS)


def _trade_closed_at_broker(broker: BrokerClient, order: Order) -> bool | None:
    """For a lost close: is the target trade closed at the broker? None if we cannot tell."""
    if order.trade is None or not order.trade.broker_trade_id:
        return None
    try:
        return broker.get_trade(order.trade.broker_trade_id).state == "closed"
    except BrokerNotFoundError:
        return True
    except BrokerError:
        return None


def order_resolve(order_id: int) -> str:
    """Settle one UNKNOWN order; returns what happened (for logs and tests)."""
    order = Order.objects.select_related("account", "instrument", "trade").get(pk=order_id)
    if order.status != OrderStatus.UNKNOWN:
        return f"already {order.status}"
    venue = venue_for(order.account)
    broker = venue.client
    if order.intent == OrderIntent.CLOSE:
        closed = _trade_closed_at_broker(broker, order)
        if closed is None:
            return "close: cannot tell yet"
        if closed:
            venue.account_sync(now=timezone.now())  # records the close from history, with its P/L
            Order.objects.filter(pk=order.pk, status=OrderStatus.UNKNOWN).update(
                status=OrderStatus.DONE, reject_reason=""
            )
            return "close: done at the broker"
        # Still open: closing an open trade once more is safe (a second close finds nothing to close).
        Order.objects.filter(pk=order.pk, status=OrderStatus.UNKNOWN).update(status=OrderStatus.NEW)
        return "close: trade still open, sent again"
    if order.intent != OrderIntent.OPEN:
        Order.objects.filter(pk=order.pk, status=OrderStatus.UNKNOWN).update(status=OrderStatus.NEW)
        return f"{order.intent}: repeatable, sent again"
    try:
        found = order_lookup(broker, order)
    except BrokerError as e:
        return f"lookup failed: {type(e).__name__}"
    if found is not None:
        order_record_result(order, found)
        return f"found: {found.status}"
    now = timezone.now()
    age = now - (order.submitted_at or order.created_at)
    # The grace runs from the end of the last send attempt (when it was parked): a request the client gave up
    # on (a read timeout) may still be acted on by the broker for a moment after.
    if now - max(order.submitted_at or order.created_at, order.updated_at) < _lookup_grace():
        return "no trace yet; waiting for a request in flight"
    if order.order_type == "market" and age > _resend_max_age():
        taken = Order.objects.filter(pk=order.pk, status=OrderStatus.UNKNOWN).update(
            status=OrderStatus.CANCELLED, reject_reason="not placed: the broker has no trace and the signal is stale"
        )
        return "absent and stale: cancelled" if taken else "taken by another resolver"
    # Provably absent and still current: claim, then send through the look-up-first path.
    if Order.objects.filter(pk=order.pk, status=OrderStatus.UNKNOWN).update(status=OrderStatus.SUBMITTING) != 1:
        return "taken by another resolver"
    try:
        result = broker.submit_order_idempotent(
            order_request(order), since_transaction_id=order_submission_since(order)
        )
    except BrokerUnknownOutcomeError as e:
        order_park_unknown(order, f"outcome unknown again: {e}")
        return "resent: outcome unknown again"
    except BrokerRejectedError as e:
        result = OrderResult(status="rejected", client_order_id=order.client_order_id, reason=e.reason or str(e))
    except BrokerError as e:
        order_park_unknown(order, f"resend failed before reaching the broker: {type(e).__name__}")
        return f"resend failed: {type(e).__name__}"
    order_record_result(order, result)
    return f"resent: {result.status}"


def orders_resolve_unknown(*, account_id: int | None = None) -> dict[int, str]:
    """Settle every UNKNOWN order of the accounts whose broker can lose an answer (or of one account)."""
    accounts = BrokerAccount.objects.filter(enabled=True)
    if account_id is not None:
        accounts = accounts.filter(pk=account_id)
    ids = [a.pk for a in accounts.only("pk", "broker") if venue_class(a.broker).capabilities.lost_answers]
    outcomes: dict[int, str] = {}
    for order_id in Order.objects.filter(account__in=ids, status=OrderStatus.UNKNOWN).values_list("pk", flat=True):
        try:
            outcomes[order_id] = order_resolve(order_id)
        except BrokerError as e:
            outcomes[order_id] = f"error: {type(e).__name__}"
        logger.info("unknown order %s: %s", order_id, outcomes[order_id])
    return outcomes
