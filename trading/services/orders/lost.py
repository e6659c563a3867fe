"""Orders whose answer was lost: where to look for them at the broker, and parking them as UNKNOWN.

Before an entry order goes out, the broker's newest transaction id is stored (``OrderSubmission``). After
a lost answer the order is looked up by its client id in the transactions since that id; an order the
broker shows no trace of is parked UNKNOWN for the resolver (``orders.resolve``), never resent here.
"""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from brokers.base import BrokerClient, OrderResult
from brokers.errors import BrokerError
from trading.models import Order, OrderStatus, OrderSubmission


def order_submission_mark(client: BrokerClient, order: Order) -> str:
    """Remember the broker's newest transaction id before ``order`` is sent; returns it ("" if unknown)."""
    since = client.last_transaction_id
    if since is None:
        try:
            since = client.get_account_state().last_transaction_id
        except BrokerError:
            since = None
    submission, _ = OrderSubmission.objects.get_or_create(order=order)
    OrderSubmission.objects.filter(pk=submission.pk).update(
        since_transaction_id=submission.since_transaction_id or (since or ""), attempts=submission.attempts + 1
    )
    return submission.since_transaction_id or (since or "")


def order_submission_since(order: Order) -> str | None:
    """The transaction id stored before ``order`` was first sent, if any."""
    submission = OrderSubmission.objects.filter(order=order).first()
    return (submission.since_transaction_id or None) if submission else None


def order_lookup(client: BrokerClient, order: Order) -> OrderResult | None:
    """What the broker knows of ``order`` (by client id, in the transactions since it was sent)."""
    OrderSubmission.objects.filter(order=order).update(last_lookup_at=timezone.now(), lookups=F("lookups") + 1)
    return client.find_order(order.client_order_id, since_transaction_id=order_submission_since(order))


def order_park_unknown(order: Order, note: str) -> None:
    """SUBMITTING → UNKNOWN with the reason: reconciliation or the resolver settles it.

    ``updated_at`` marks when the send attempt ended: the resolver's look-up grace runs from here, since the
    broker may still act on a request for a while after the client gave up on its answer.
    """
    Order.objects.filter(pk=order.pk, status=OrderStatus.SUBMITTING).update(
        status=OrderStatus.UNKNOWN, reject_reason=note[:200], updated_at=timezone.now()
    )
    OrderSubmission.objects.filter(order=order).update(note=note[:300])
