"""Sending NEW orders to the broker, one instrument at a time, in creation order.

Generic over brokers: the send gate (kill switch, market hours) is decided here, and the account's venue
claims each order with a conditional UPDATE (NEW → SUBMITTING, so two dispatchers never send the same
order), sends it and records the answer (``trading.venues.base.Venue.order_execute``).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from ops.logs import log_context_set
from risk.services.kill_switch import kill_switch_engaged
from risk.services.market_hours import order_may_send, order_was_held, orders_queued
from trading.models import BrokerAccount, Order, OrderIntent, OrderStatus, OrderType
from trading.services.execution.lease import holder_process_gone, process_holder
from trading.services.prices import prices_memo
from trading.services.virtual.execute import virtual_orders_execute
from trading.venues import Venue, venue_class, venue_for

logger = logging.getLogger(__name__)
# The dispatch lock of one instrument lapses this long after its holder last touched it (it touches it before
# every order), longer than one send can take; a dispatcher on this host that died frees it at once.
LOCK_SECONDS = 30


def dispatch_lock_key(account_id: int, instrument_id: int) -> str:
    return f"asirikuy:dispatch-lock:{account_id}:{instrument_id}"


def dispatcher_alive(account_id: int, instrument_id: int) -> bool:
    """Someone holds the instrument's dispatch lock and, as far as this host can tell, is alive."""
    holder = cache.get(dispatch_lock_key(account_id, instrument_id))
    return holder is not None and not holder_process_gone(str(holder))


class _InstrumentLock:
    """One dispatcher per (account, instrument) at a time, so an instrument's orders go out in sequence."""

    def __init__(self, account_id: int, instrument_id: int) -> None:
        self.key = dispatch_lock_key(account_id, instrument_id)
        self.token = f"{process_holder()}:{uuid.uuid4().hex}"
        self.acquired = False
        self.touched = 0.0

    def acquire(self) -> bool:
        self.acquired = bool(cache.add(self.key, self.token, LOCK_SECONDS))
        if not self.acquired:
            holder = cache.get(self.key)
            if holder is not None and holder_process_gone(str(holder)):  # its dispatcher died: take it now
                cache.delete(self.key)
                self.acquired = bool(cache.add(self.key, self.token, LOCK_SECONDS))
        self.touched = time.monotonic()
        return self.acquired

    def touch(self) -> None:
        """Before each order; a round trip only when a third of the lock's life has gone by."""
        if self.acquired and time.monotonic() - self.touched > LOCK_SECONDS / 3:
            cache.touch(self.key, LOCK_SECONDS)
            self.touched = time.monotonic()

    def release(self) -> None:
        if self.acquired and cache.get(self.key) == self.token:  # never another dispatcher's lock after a lapse
            cache.delete(self.key)
        self.acquired = False


@contextmanager
def _instrument_lock(account_id: int, instrument_id: int) -> Iterator[_InstrumentLock]:
    lock = _InstrumentLock(account_id, instrument_id)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()


def _dispatch_one(venue: Venue, order: Order, kill_switch: bool | None = None) -> None:
    if _may_go(order, kill_switch):
        venue.order_execute(order)


def _may_go(order: Order, kill_switch: bool | None) -> bool:
    """The send gate: False when the order was cancelled, held or recorded as blocked instead of sent."""
    log_context_set(order=order.pk, instance=order.instance_id)
    now = timezone.now()
    if order_too_late(order, now):
        return False
    # A netting order carries virtual orders that already passed this gate (and exits must reach the broker).
    # risk: kill switch stops entries; market closed → drop or queue
    return order.netting or order_may_send(order, now, kill_switch=kill_switch)


def order_too_late(order: Order, now: datetime) -> bool:
    """Cancel a market entry not sent within ORDER_MAX_AGE_SECONDS of its signal; True when it was.

    A late entry trades on a price the strategy never saw. Exits, modifies and cancels still go (late is
    better than never for them), and so do entries a market-hours policy held on purpose until the open.
    """
    if order.intent != OrderIntent.OPEN or order.order_type != OrderType.MARKET or order.netting:
        return False
    max_age = settings.ORDER_MAX_AGE_SECONDS
    if (now - order.created_at).total_seconds() <= max_age:
        return False
    if order_was_held(order):
        return False
    reason = f"not sent within {max_age} s of its signal: a late market entry is never sent"
    cancelled = Order.objects.filter(pk=order.pk, status=OrderStatus.NEW).update(
        status=OrderStatus.CANCELLED, reject_reason=reason
    )
    if cancelled:
        logger.warning("order %s: %s", order.pk, reason)
    return True


def orders_fail_unsent(*, account_id: int, instrument_id: int, reason: str) -> int:
    """Dispatch gave up (its retries are spent): every NEW order of the pair ends FAILED with ``reason``.

    Orders held by a market-hours policy are left for their release. Returns how many were marked.
    """
    failed = (
        _new_orders(account_id, instrument_id)
        .filter(created_at__lte=timezone.now())
        .update(status=OrderStatus.FAILED, reject_reason=reason[:200])
    )
    if failed:
        logger.error("account %s instrument %s: %d orders failed: %s", account_id, instrument_id, failed, reason)
    return failed


def orders_dispatch(*, account_id: int, instrument_id: int, account: BrokerAccount | None = None) -> int:
    """Send every NEW order of one account and instrument, oldest first. Returns how many were handled.

    ``account``: the account row when the caller already holds it (a run's after-commit dispatch).
    """
    if account is None or account.pk != account_id:
        account = BrokerAccount.objects.get(pk=account_id)
    venue = venue_for(account)
    handled = 0
    held: set[int] = set()  # entries waiting for an exit of their instance (exit_in_flight)
    while True:
        # prices_memo: the paper broker quotes each order of a pass from the same newest bar, read once.
        with _instrument_lock(account_id, instrument_id) as lock, prices_memo():
            if not lock.acquired:
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
            # The kill switch once per pass (under the lock), not once per order: a pass takes well under a second.
            kill_switch = (
                kill_switch_engaged(account_id)
                if any(o.intent == OrderIntent.OPEN and not o.netting for o in orders)
                else None
            )
            if venue.capabilities.in_process_fills:
                # No network round trip: the pass is over in milliseconds (no lock touch needed), and the venue
                # may fill the orders that passed the gate together.
                venue.orders_execute([order for order in orders if _may_go(order, kill_switch)])
                handled += len(orders)
            else:
                for order in orders:
                    lock.touch()
                    if exit_in_flight(order):
                        # It stays NEW (the sweeper offers it again) until the exit is known, or its age ends it.
                        if not order_too_late(order, timezone.now()):
                            held.add(order.pk)
                        continue
                    _dispatch_one(venue, order, kill_switch)
                    handled += 1
        # Checked after the lock is released: an order created meanwhile, whose own dispatcher found the lock
        # taken, would otherwise wait for the next run.
        if not _new_orders(account_id, instrument_id).exclude(pk__in=held).exists():
            return handled


def exit_in_flight(order: Order) -> bool:
    """An entry waits while an exit of its instance on this instrument has no known outcome yet.

    A stop-and-reverse sends the close, then the entry. When the close's answer is lost (a dispatcher killed
    mid-send, a dropped connection) it is SUBMITTING or UNKNOWN until the resolver finds it; sending the entry
    meanwhile would hold both positions at the broker, over the instance's max_open_orders. Remote brokers
    only: the paper venue claims, fills and records an exit in one transaction, so it is never left in flight.
    """
    if order.intent != OrderIntent.OPEN or order.netting or order.instance_id is None:
        return False
    return Order.objects.filter(
        instance_id=order.instance_id,
        instrument_id=order.instrument_id,
        intent=OrderIntent.CLOSE,
        status__in=(OrderStatus.SUBMITTING, OrderStatus.UNKNOWN),
    ).exists()


def _new_orders(account_id: int, instrument_id: int) -> QuerySet[Order]:
    return (
        Order.objects.filter(account_id=account_id, instrument_id=instrument_id, status=OrderStatus.NEW)
        .exclude(pk__in=orders_queued())  # held by risk until the market opens
        .order_by()
    )


def orders_dispatch_after_commit(*, account: BrokerAccount, instrument_id: int) -> None:
    """Send the account's NEW orders for one instrument once the current transaction commits."""
    orders_dispatch_many_after_commit(account=account, instrument_ids=[instrument_id])


def orders_dispatch_many_after_commit(*, account: BrokerAccount, instrument_ids: list[int]) -> None:
    """Send the account's NEW orders for each of ``instrument_ids`` once the current transaction commits.

    A venue that fills in-process (paper) fills them in this process: at once, or, in a strategy worker, as one
    task on the account's own queue (``trading.tasks.orders_fill``). The worker serves its account queues round
    robin, so the bar closes already queued for its other accounts run first and every execution of the bar is
    recorded before the paper fills take the worker (a few hundred milliseconds later). Remote brokers get a
    task per instrument on the broker_io queue, whose threaded worker overlaps round trips across instruments.
    """
    if not instrument_ids:
        return
    in_process = venue_class(account.broker).capabilities.in_process_fills
    queued = in_process and _serves_account_queues()

    def run() -> None:
        if queued:
            from trading.tasks import orders_fill_task

            orders_fill_task.apply_async(args=(account.pk, list(instrument_ids)))
        elif in_process:
            # Fills move the balance at once; equity and margin are revalued at the next bar (minute tick
            # or the next run), not after every order, which would cost a pass over all open trades.
            for instrument_id in instrument_ids:
                orders_dispatch(account_id=account.pk, instrument_id=instrument_id, account=account)
        else:
            from trading.tasks import orders_dispatch_task

            for instrument_id in instrument_ids:
                orders_dispatch_task.apply_async(kwargs={"account_id": account.pk, "instrument_id": instrument_id})

    # robust: the orders are committed; a failure to send them now (Redis away) is logged, not raised into the
    # batch that already finished, and the order sweeper sends them within seconds.
    transaction.on_commit(run, robust=True)


def orders_fill(*, account_id: int, instrument_ids: list[int]) -> int:
    """The in-process fills of one account's instruments (a strategy worker's deferred dispatch); returns how many
    orders were handled. One instrument's failure is logged and leaves its orders to the order sweeper."""
    account = BrokerAccount.objects.get(pk=account_id)
    handled = 0
    for instrument_id in instrument_ids:
        try:
            handled += orders_dispatch(account_id=account_id, instrument_id=instrument_id, account=account)
        except Exception:
            logger.warning(
                "account %s instrument %s: fills failed; the sweeper retries", account_id, instrument_id, exc_info=True
            )
    return handled


def _serves_account_queues() -> bool:
    """This process is a strategy worker consuming account queues (under leases)."""
    from trading.leases import account_leases

    return account_leases() is not None
