"""The paper venue: a simulated broker whose state is the platform's own database.

Fills happen inside our transaction (``in_process_fills``): a dispatch sends and records in one database
transaction, so no answer can be lost and no resolver or reconciliation is needed. The market time of a
paper account is its simulated time (the bars it has filled against).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from brokers.base import BrokerClient, OrderResult, Quote
from brokers.errors import BrokerRejectedError
from trading.models import AccountSnapshot, Broker, BrokerAccount, Instrument, Order, OrderIntent, OrderType
from trading.queues import Queue
from trading.services.orders.record import order_record_claimed, orders_record_claimed_opens
from trading.services.orders.send import order_claim, order_request, orders_claim
from trading.services.periodic import EVERY_MINUTE, PeriodicJob
from trading.services.prices import last_price
from trading.venues.base import Capabilities, Venue
from trading.venues.paper.ledger import PaperLedger
from trading.venues.paper.netting import paper_netting_fill


class PaperVenue(Venue):
    kind = Broker.PAPER
    label = "Paper (simulated)"
    capabilities = Capabilities(in_process_fills=True)

    def __init__(self, account: BrokerAccount) -> None:
        super().__init__(account)
        self._ledger: PaperLedger | None = None

    @classmethod
    def account_prepare(cls, account: BrokerAccount, *, token: str, initial_balance: Decimal) -> None:
        account.balance = account.equity = Decimal(initial_balance)

    def account_created(self) -> None:
        account = self.account
        AccountSnapshot.objects.create(
            account=account, time=timezone.now(), balance=account.balance, equity=account.equity
        )

    @property
    def client(self) -> BrokerClient:
        return self.ledger

    @property
    def ledger(self) -> PaperLedger:
        """One ledger per venue object: it remembers the instrument rows of a dispatch pass."""
        if self._ledger is None:
            self._ledger = PaperLedger(self.account)
        return self._ledger

    def account_sync(self, *, now: datetime) -> bool:
        from trading.venues.paper.simulate import paper_account_process

        if paper_account_process(self.account, until=now):
            self.account.refresh_from_db()
            return True
        return False

    def quote(self, instrument: Instrument) -> Quote:
        price = last_price(instrument)
        return Quote(symbol=instrument.symbol, bid=price.bid, ask=price.ask, time=price.time)

    def market_clock(self, now: datetime) -> datetime:
        return self.account.paper_processed_until or now

    @classmethod
    def periodic_jobs(cls) -> list[PeriodicJob]:
        return [
            PeriodicJob(
                name="paper: market tick",
                task="trading.tasks.market_tick",
                queue=Queue.DEFAULT,
                crontab=EVERY_MINUTE,
                expire_seconds=55,
                description="Every minute: extend the simulated feed, then each paper account sees the new bars",
            )
        ]

    def send(self, order: Order) -> OrderResult:
        if order.netting:
            # Virtual order mode: the paper broker hedges, so the net position is reduced FIFO here.
            return paper_netting_fill(self.ledger, order)
        return super().send(order)

    def orders_execute(self, orders: list[Order]) -> None:
        """Market entries in a row are filled together: one claim, one id allocation, one INSERT of their trades
        and one UPDATE of the orders, in one transaction (per order, a fill is six round trips to the database);
        every other order on its own, in the given order."""
        run: list[Order] = []
        for order in orders:
            if order.intent == OrderIntent.OPEN and order.order_type == OrderType.MARKET and not order.netting:
                run.append(order)
                continue
            self._market_entries(run)
            run = []
            self.order_execute(order)
        self._market_entries(run)

    def _market_entries(self, orders: list[Order]) -> None:
        if len(orders) < 2:
            for order in orders:
                self.order_execute(order)
            return
        for order in orders:
            self.ledger.instrument_known(order.instrument)
        with transaction.atomic():
            claimed = orders_claim([order.pk for order in orders])
            mine = [order for order in orders if order.pk in claimed]
            results = self.ledger.submit_market_orders([order_request(order) for order in mine])
            orders_record_claimed_opens(list(zip(mine, results, strict=True)))

    def order_execute(self, order: Order) -> None:
        # The paper broker is the database: claim, send and record in one transaction.
        self.ledger.instrument_known(order.instrument)
        with transaction.atomic():
            if not order_claim(order.pk):
                return
            try:
                result = self.send(order)
            except BrokerRejectedError as e:
                result = OrderResult(status="rejected", client_order_id=order.client_order_id, reason=str(e))
            order_record_claimed(order, result)  # claimed above, in this transaction: no second read of the row
