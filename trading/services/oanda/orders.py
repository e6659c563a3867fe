"""Orders whose answer was lost: where to look, and the periodic resolver for UNKNOWN orders.

Before an order goes out, the broker's last transaction id is stored (``OrderSubmission``). After a lost
answer the order is looked up by its client id in the transactions since that id. An order the broker
has no trace of stays UNKNOWN until the resolver proves it absent; only then, and only while the order
is still young enough to be worth placing, is it sent once more through ``submit_order_idempotent``,
which looks it up again immediately before sending. No path sends an order the broker may have.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from brokers.base import BrokerClient, OrderResult
from brokers.errors import BrokerError, BrokerNotFoundError, BrokerRejectedError, BrokerUnknownOutcomeError
from trading.models import Broker, BrokerAccount, Order, OrderIntent, OrderStatus, OrderSubmission

logger = logging.getLogger(__name__)


def _resend_max_age() -> timedelta:
    """A market order older than this is not worth placing any more: it is cancelled instead."""
    return timedelta(seconds=getattr(settings, "OANDA_RESEND_MAX_AGE_SECONDS", 60))


def _lookup_grace() -> timedelta:
    """Give a request in flight this long to show up at the broker before calling it absent."""
    return timedelta(seconds=getattr(settings, "OANDA_LOOKUP_GRACE_SECONDS", 5))


def order_submission_mark(broker: BrokerClient, order: Order) -> str:
    """Remember the broker's newest transaction id before ``order`` is sent; returns it ("" if unknown)."""
    since = getattr(broker, "last_transaction_id", None)
    if since is None and hasattr(broker, "get_account_state"):
        try:
            since = broker.get_account_state().last_transaction_id
        except BrokerError:
            since = None
    submission, _ = OrderSubmission.objects.get_or_create(order=order)
    OrderSubmission.objects.filter(pk=submission.pk).update(
        since_transaction_id=submission.since_transaction_id or (since or ""), attempts=submission.attempts + 1
    )
    return submission.since_transaction_id or (since or "")


def _since(order: Order) -> str | None:
    submission = OrderSubmission.objects.filter(order=order).first()
    return (submission.since_transaction_id or None) if submission else None


def order_lookup(broker: BrokerClient, order: Order) -> OrderResult | None:
    """What the broker knows of ``order`` (by client id, in the transactions since it was sent)."""
    OrderSubmission.objects.filter(order=order).update(last_lookup_at=timezone.now(), lookups=F("lookups") + 1)
    find = broker.find_order
    since = _since(order)
    try:
        return find(order.client_order_id, since_transaction_id=since)  # type: ignore[call-arg]
    except TypeError:
        return find(order.client_order_id)


def order_park_unknown(order: Order, note: str) -> None:
    Order.objects.filter(pk=order.pk, status=OrderStatus.SUBMITTING).update(
        status=OrderStatus.UNKNOWN, reject_reason=note[:200]
    )
    OrderSubmission.objects.filter(order=order).update(note=note[:300])


def _trade_closed_at_broker(broker: BrokerClient, order: Order) -> bool | None:
    """For a lost close: is the target trade closed at the broker? None if we cannot tell."""
    if order.trade is None or not order.trade.broker_trade_id or not hasattr(broker, "get_trade"):
        return None
    try:
        return broker.get_trade(order.trade.broker_trade_id).state == "closed"
    except BrokerNotFoundError:
        return True
    except BrokerError:
        return None


def order_resolve(order_id: int) -> str:
    """Settle one UNKNOWN order; returns what happened (for logs and tests)."""
    from trading.services.broker_clients import broker_for
    from trading.services.oanda.sync import oanda_account_sync
    from trading.services.orders.record import order_record_result

    order = Order.objects.select_related("account", "instrument", "trade").get(pk=order_id)
    if order.status != OrderStatus.UNKNOWN:
        return f"already {order.status}"
    broker = broker_for(order.account)
    if order.intent == OrderIntent.CLOSE:
        closed = _trade_closed_at_broker(broker, order)
        if closed is None:
            return "close: cannot tell yet"
        if closed:
            oanda_account_sync(order.account)  # records the close from history, with its P/L
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
    age = timezone.now() - (order.submitted_at or order.created_at)
    if age < _lookup_grace():
        return "no trace yet; waiting for a request in flight"
    if order.order_type == "market" and age > _resend_max_age():
        taken = Order.objects.filter(pk=order.pk, status=OrderStatus.UNKNOWN).update(
            status=OrderStatus.CANCELLED, reject_reason="not placed: the broker has no trace and the signal is stale"
        )
        return "absent and stale: cancelled" if taken else "taken by another resolver"
    # Provably absent and still current: claim, then send through the look-up-first path.
    if Order.objects.filter(pk=order.pk, status=OrderStatus.UNKNOWN).update(status=OrderStatus.SUBMITTING) != 1:
        return "taken by another resolver"
    from trading.services.orders.dispatch import _request_for

    try:
        result = broker.submit_order_idempotent(  # type: ignore[attr-defined]
            _request_for(order), since_transaction_id=_since(order)
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
    """Settle every UNKNOWN order of OANDA accounts (or of one account)."""
    accounts = BrokerAccount.objects.filter(broker=Broker.OANDA, enabled=True)
    if account_id is not None:
        accounts = accounts.filter(pk=account_id)
    outcomes: dict[int, str] = {}
    for order_id in Order.objects.filter(account__in=accounts, status=OrderStatus.UNKNOWN).values_list("pk", flat=True):
        try:
            outcomes[order_id] = order_resolve(order_id)
        except BrokerError as e:
            outcomes[order_id] = f"error: {type(e).__name__}"
        logger.info("unknown order %s: %s", order_id, outcomes[order_id])
    return outcomes
