"""The sweeper of orders: nothing waits for a dispatcher that died.

Orders are the queue of record: a batch commits them NEW and then asks for a dispatch (in its own process for
the paper broker, a broker_io task for remote brokers). If that process dies after the commit, or the task is
lost with Redis, the orders would wait for the next batch of the same instrument. Every few seconds beat runs
``orders_sweep`` (``trading.tasks.orders_sweep``), which

* dispatches every NEW order older than ORPHAN_SECONDS (the dispatch's age gate cancels a market entry older
  than ``ASIRIKUY_ORDER_MAX_AGE_SECONDS`` instead of sending it late);
* parks as UNKNOWN an order of a broker that can lose answers left SUBMITTING by a dispatcher that died between
  claiming and recording it (it may or may not have reached the broker): at once when its instrument's
  dispatch lock is gone or names a dead process of this host, else after SUBMIT_STUCK_SECONDS, and
* asks the resolver to settle UNKNOWN orders at once rather than at its next half-minute round.

Two dispatchers of one instrument never overlap (the dispatch lock), and an order is sent only by the one that
claims it NEW → SUBMITTING, so a sweep racing a live dispatcher sends nothing twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from risk.services.market_hours import orders_queued
from trading.models import BrokerAccount, Order, OrderStatus
from trading.services.orders.dispatch import dispatcher_alive, orders_dispatch
from trading.services.orders.lost import order_park_unknown
from trading.venues import venue_class

logger = logging.getLogger(__name__)
ORPHAN_SECONDS = 5
# Longer than a send can take (connect 5 s + read 15 s, then a look-up): nobody is still waiting on it.
SUBMIT_STUCK_SECONDS = 45


def orders_sweep() -> dict[str, int]:
    """One round; returns what it did (for logs and tests)."""
    wall = timezone.now()
    out = {"dispatched_pairs": 0, "parked": 0, "resolve_asked": 0}
    kinds = dict(BrokerAccount.objects.values_list("pk", "broker"))
    pairs = set(
        Order.objects.filter(status=OrderStatus.NEW, created_at__lt=wall - timedelta(seconds=ORPHAN_SECONDS))
        .exclude(pk__in=orders_queued())
        .values_list("account_id", "instrument_id")
        .distinct()
        .order_by()
    )
    for account_id, instrument_id in sorted(pairs):
        try:
            _dispatch(account_id, instrument_id, kinds[account_id])
            out["dispatched_pairs"] += 1
        except Exception:  # one pair's failure (broker away, Redis away) never stops the others
            logger.warning(
                "sweep: dispatch of account %s instrument %s failed", account_id, instrument_id, exc_info=True
            )
    stuck = Order.objects.filter(
        status=OrderStatus.SUBMITTING, submitted_at__lt=wall - timedelta(seconds=ORPHAN_SECONDS)
    ).select_related("account")
    for order in stuck:
        if not venue_class(order.account.broker).capabilities.lost_answers:
            continue
        old = order.submitted_at is not None and order.submitted_at < wall - timedelta(seconds=SUBMIT_STUCK_SECONDS)
        if old or not _alive(order):
            order_park_unknown(order, "its dispatcher stopped after claiming it; looked up by the resolver")
            out["parked"] += 1
    grace = timedelta(seconds=settings.ORDER_LOOKUP_GRACE_SECONDS)
    unknown = set(
        Order.objects.filter(status=OrderStatus.UNKNOWN, submitted_at__lt=wall - grace)
        .values_list("account_id", flat=True)
        .distinct()
        .order_by()
    )
    for account_id in sorted(unknown):
        if _resolve_soon(account_id):
            out["resolve_asked"] += 1
    if any(out.values()):
        logger.info("orders sweep: %s", out)
    return out


def _alive(order: Order) -> bool:
    """The dispatcher sending ``order`` still holds its instrument (a resend by the resolver holds no lock: the
    look-up grace from the park protects it)."""
    try:
        return dispatcher_alive(order.account_id, order.instrument_id)
    except Exception:  # Redis away: judge by age alone
        return True


def _dispatch(account_id: int, instrument_id: int, broker: str) -> None:
    if venue_class(broker).capabilities.in_process_fills:
        orders_dispatch(account_id=account_id, instrument_id=instrument_id)  # fills in our database: here
    else:
        from trading.tasks import orders_dispatch_task

        orders_dispatch_task.apply_async(kwargs={"account_id": account_id, "instrument_id": instrument_id})


def _resolve_soon(account_id: int) -> bool:
    """Ask the resolver for ``account_id`` now, at most once in ten seconds."""
    from trading.tasks import orders_resolve_unknown_task

    try:
        if not cache.add(f"asirikuy:resolve-asked:{account_id}", "1", 10):
            return False
        orders_resolve_unknown_task.apply_async(args=(account_id,))
    except Exception:
        logger.warning("sweep: asking the resolver for account %s failed", account_id, exc_info=True)
        return False
    return True
