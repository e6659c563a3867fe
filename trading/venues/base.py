"""The one interface through which the domain reaches a broker: a venue adapter per broker kind.

A broker client (``brokers/<kind>/``) speaks its wire format and returns typed reports; its venue
(``trading/venues/<kind>/``) turns them into rows and owns the broker's capabilities, so generic services
(dispatch, account sync, virtual netting, market hours, the schedule, tasks) ask the venue and never branch
on the broker kind. A new broker is one client folder, one venue and one catalog entry (``catalog.py``).

The default order path is the one of a remote broker reached over the network: claim, remember the
broker's newest transaction, send, and on a lost answer look the order up by its client id before
anything else; an order whose outcome stays unknown is parked for the resolver, never resent.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from typing import ClassVar

from brokers.base import BrokerClient, BrokerTrade, OrderResult, Quote
from brokers.errors import (
    BrokerAuthError,
    BrokerError,
    BrokerRejectedError,
    BrokerTemporaryError,
    BrokerUnknownOutcomeError,
)
from trading.bars.gaps import BarSource, BarSourceMissing
from trading.models import BrokerAccount, Instrument, Order, OrderIntent, OrderStatus
from trading.services.orders.lost import order_lookup, order_park_unknown, order_submission_mark
from trading.services.orders.record import order_record_result
from trading.services.orders.send import instrument_ref, order_claim, order_send
from trading.services.periodic import PeriodicJob

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Capabilities:
    """What a broker kind can do; generic services read these instead of the broker's name."""

    in_process_fills: bool = False  # orders fill inside our own database transaction (no network round trip)
    streaming_prices: bool = False  # a price stream process keeps the latest quotes in Redis
    history: bool = False  # the broker keeps a transaction history that account sync replays
    reconciles: bool = False  # broker state can differ from ours and is compared by reconciliation
    lost_answers: bool = False  # an answer can be lost on the way: orders may end UNKNOWN and need a resolver
    # New York wall-clock window each trading day in which the broker takes no orders (OANDA: 16:59-17:05).
    daily_break: tuple[time, time] | None = None
    environments: tuple[str, ...] = ()  # e.g. ("practice", "live"); empty = the field does not apply
    needs_token: bool = False
    # OAuth: the access token expires and is renewed with a refresh token the account keeps (cTrader).
    refresh_token: bool = False


class Venue(ABC):
    """One broker kind, for one account. Cheap to build: state that must live longer (HTTP sessions) is
    kept by the venue module per process."""

    kind: ClassVar[str]
    label: ClassVar[str]
    capabilities: ClassVar[Capabilities]

    def __init__(self, account: BrokerAccount) -> None:
        self.account = account

    # --- set-up ------------------------------------------------------------------------------------
    @classmethod
    def account_field_errors(cls, account: BrokerAccount) -> dict[str, str]:
        """Field errors of the broker-specific fields (called from the model's clean())."""
        return {}

    @classmethod
    def account_prepare(cls, account: BrokerAccount, *, token: str, initial_balance: Decimal) -> None:
        """Before an account is first saved: check it with the broker and fill in what the broker knows.

        Raises django.core.exceptions.ValidationError naming the field at fault.
        """
        return None

    def account_created(self) -> None:
        """After the first save (e.g. the opening balance snapshot)."""
        return None

    def account_changed(self, *, fields: set[str], token: str) -> None:
        """Before saving changed broker fields: re-check what the change could break (e.g. the token)."""
        return None

    # --- the broker's state --------------------------------------------------------------------------
    @property
    @abstractmethod
    def client(self) -> BrokerClient:
        """The broker client of this account."""

    @abstractmethod
    def account_sync(self, *, now: datetime) -> bool:
        """Bring the account up to date with its broker before a strategy reads it; True when it changed."""

    def quote(self, instrument: Instrument) -> Quote:
        """The current bid/ask of ``instrument`` at this broker."""
        return self.client.get_quote(instrument_ref(instrument))

    def broker_trades(self) -> list[BrokerTrade]:
        """The broker's open trades (its side of a reconciliation or a net check)."""
        return self.client.list_open_trades()

    def market_clock(self, now: datetime) -> datetime:
        """The time the market rules of this account are judged at (paper: its simulated time)."""
        return now

    @classmethod
    def data_bar_source(cls, account: BrokerAccount | None = None) -> BarSource:
        """Where missing bars of this broker come from (``account``: read with that account's credentials).

        Raises BarSourceMissing when the broker has no bar source or none is configured.
        """
        raise BarSourceMissing(f"broker {cls.kind!r} has no bar source: its bars are the stored bars themselves")

    def price_stream_status(self, now: datetime) -> dict[str, object] | None:
        """This account's price stream, for health and alerts: ``stream`` (its name, shared by the accounts it
        serves), ``fresh`` (bool), ``age`` (seconds since its last message, None if never) and ``state``; None
        when the broker has no stream (or there is no Redis to keep one)."""
        return None

    @classmethod
    def periodic_jobs(cls) -> list[PeriodicJob]:
        """Every beat entry this broker kind needs right now, for all of its accounts."""
        return []

    # --- orders --------------------------------------------------------------------------------------
    def send(self, order: Order) -> OrderResult:
        """Ask the broker to do what ``order`` says; returns its answer."""
        return order_send(self.client, order)

    def orders_execute(self, orders: list[Order]) -> None:
        """``order_execute`` for each of ``orders`` in turn (orders that passed the send gate together); a venue
        that fills in-process may fill them together."""
        for order in orders:
            self.order_execute(order)

    def order_execute(self, order: Order) -> None:
        """Claim ``order`` (NEW → SUBMITTING), send it, and record the answer, or park it when unknown.

        ``order.account`` and ``order.instrument`` are loaded. Raises BrokerTemporaryError or BrokerAuthError
        (the order is NEW again: nothing reached the broker) for the caller's retry policy.
        """
        if not order_claim(order.pk):
            return
        client = self.client
        if order.intent == OrderIntent.OPEN:
            order_submission_mark(client, order)
        try:
            result = self.send(order)
        except BrokerUnknownOutcomeError as lost:
            # Never resend here: look the order up in the transactions since it was sent, else park it.
            note = f"outcome unknown: {lost}"
            try:
                found = order_lookup(client, order) if order.intent == OrderIntent.OPEN else None
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
            Order.objects.filter(pk=order.pk, status=OrderStatus.SUBMITTING).update(status=OrderStatus.NEW)
            raise
        order_record_result(order, result)
