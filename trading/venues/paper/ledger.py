"""The paper broker as a broker client: fills at the latest bar's bid/ask, state in the platform's tables.

Rules:
- Market orders fill immediately at the ask (buy) or bid (sell) of the newest complete bar; the bid
  is the bar close, the ask adds the bar's spread (or the instrument's configured spread).
- Pending orders, stop losses and take profits are checked on later bars (``simulate.py``, by the pure
  rules of ``brokers.paper``).
- P/L = price difference × units, converted from the quote currency to the account currency.
- Hedging is allowed (every open is its own trade), as on a non-FIFO account.
Because this broker is the database, its calls must run inside the caller's transaction: a submit and
its record commit together, so an answer can never be lost.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from brokers.base import (
    AccountState,
    BrokerEvent,
    BrokerOrder,
    BrokerTrade,
    Fill,
    InstrumentRef,
    OrderRequest,
    OrderResult,
    OrderResultStatus,
    OrderTypeLiteral,
    Quote,
    SideLiteral,
    TradeClose,
)
from brokers.errors import BrokerNotFoundError, BrokerRejectedError
from trading.models import BrokerAccount, Instrument, Order, OrderStatus, Side, Trade, TradeState
from trading.money import money
from trading.services.prices import LastPrice, PriceUnavailable, last_price, quote_to_account_rate

_SIDES: dict[str, SideLiteral] = {"buy": "buy", "sell": "sell"}
_TYPES: dict[str, OrderTypeLiteral] = {"market": "market", "limit": "limit", "stop": "stop"}
_RESULT_STATUS: dict[str, OrderResultStatus] = {
    OrderStatus.PENDING: "pending",
    OrderStatus.CANCELLED: "cancelled",
    OrderStatus.EXPIRED: "cancelled",
    OrderStatus.REJECTED: "rejected",
}


class PaperLedger:
    """BrokerClient of a paper account. One per dispatch pass or simulation (it caches instrument rows)."""

    def __init__(self, account: BrokerAccount) -> None:
        self.account = account
        self._instruments: dict[str, Instrument] = {}

    # --- helpers ---------------------------------------------------------------------------
    def instrument_known(self, instrument: Instrument) -> None:
        """Remember an instrument row the caller already holds, so requests for its symbol need no lookup."""
        self._instruments[instrument.symbol] = instrument

    def _instrument(self, symbol: str) -> Instrument:
        known = self._instruments.get(symbol)
        if known is not None:
            return known
        try:
            inst = Instrument.objects.get(symbol=symbol)
        except Instrument.DoesNotExist as e:
            raise BrokerNotFoundError(f"paper broker has no instrument {symbol}", reason="INSTRUMENT_UNKNOWN") from e
        self._instruments[symbol] = inst
        return inst

    def next_transaction_id(self) -> str:
        return self.next_transaction_ids(1)[0]

    def next_transaction_ids(self, count: int) -> list[str]:
        """``count`` consecutive ids in one atomic UPDATE … RETURNING: concurrent fills on the account never share
        an id."""
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE trading_brokeraccount SET last_transaction_id = CAST(CAST(CASE WHEN last_transaction_id = ''"
                " THEN '0' ELSE last_transaction_id END AS INTEGER) + %s AS TEXT) WHERE id = %s"
                " RETURNING last_transaction_id",
                [count, self.account.pk],
            )
            row = cursor.fetchone()
        last = int(row[0])
        self.account.last_transaction_id = str(last)
        return [str(n) for n in range(last - count + 1, last + 1)]

    def pl(
        self, instrument: Instrument, side: str, units: Decimal, open_price: Decimal, close_price: Decimal
    ) -> Decimal:
        """Realised P/L in the account currency of closing ``units`` at ``close_price``."""
        diff = (close_price - open_price) if side == Side.BUY else (open_price - close_price)
        rate = quote_to_account_rate(instrument, self.account.currency, price=close_price)
        return money(diff * units * rate)

    # --- BrokerClient ------------------------------------------------------------------------
    @property
    def last_transaction_id(self) -> str | None:
        return self.account.last_transaction_id or None

    def get_account_state(self) -> AccountState:
        account = BrokerAccount.objects.get(pk=self.account.pk)
        return AccountState(
            currency=account.currency,
            balance=account.balance,
            equity=account.equity,
            margin_used=account.margin_used,
            unrealized_pl=account.unrealized_pl,
            hedging_enabled=not account.fifo,
            last_transaction_id=account.last_transaction_id,
            open_trade_count=Trade.objects.filter(account=account, state=TradeState.OPEN, virtual=False).count(),
        )

    def get_quote(self, instrument: InstrumentRef) -> Quote:
        inst = self._instrument(instrument.symbol)
        price = last_price(inst)
        return Quote(symbol=inst.symbol, bid=price.bid, ask=price.ask, time=price.time)

    def submit_order(self, request: OrderRequest) -> OrderResult:
        # Every check comes before the one write (the transaction id, a single atomic UPDATE), so a rejected
        # request writes nothing and no savepoint is needed around it.
        price = self._checked(request)
        transaction_id = self.next_transaction_id()
        if request.order_type != "market":
            return OrderResult(
                status="pending",
                client_order_id=request.client_order_id,
                broker_order_id=transaction_id,
                last_transaction_id=transaction_id,
            )
        return _market_fill(request, price, transaction_id)

    def submit_market_orders(self, requests: list[OrderRequest]) -> list[OrderResult]:
        """Market orders, answered as ``submit_order`` answers each in turn, with one write for their ids.

        A rejected request gets a "rejected" result (its reason) and no id, as its own submit would have.
        """
        checked: list[tuple[int, LastPrice]] = []
        results: list[OrderResult | None] = []
        for request in requests:
            if request.order_type != "market":
                raise ValueError(f"order {request.client_order_id}: only market orders are filled in a batch")
            try:
                checked.append((len(results), self._checked(request)))
                results.append(None)
            except BrokerRejectedError as e:
                results.append(OrderResult(status="rejected", client_order_id=request.client_order_id, reason=str(e)))
        ids = self.next_transaction_ids(len(checked)) if checked else []
        for (index, price), transaction_id in zip(checked, ids, strict=True):
            results[index] = _market_fill(requests[index], price, transaction_id)
        return [r for r in results if r is not None]

    def _checked(self, request: OrderRequest) -> LastPrice:
        """The price a request fills at, after the checks that reject it (BrokerRejectedError)."""
        inst = self._instrument(request.instrument.symbol)
        if request.units <= 0:
            raise BrokerRejectedError(f"units must be positive, was {request.units}", reason="UNITS_INVALID")
        try:
            price = last_price(inst)
        except PriceUnavailable as e:
            raise BrokerRejectedError(str(e), reason="MARKET_HALTED") from e
        if request.order_type != "market" and (request.price is None or request.price <= 0):
            raise BrokerRejectedError("a pending order needs a positive price", reason="PRICE_INVALID")
        return price

    def submit_order_idempotent(self, request: OrderRequest, *, since_transaction_id: str | None = None) -> OrderResult:
        found = self.find_order(request.client_order_id)
        return found if found is not None else self.submit_order(request)

    def find_order(self, client_order_id: str, *, since_transaction_id: str | None = None) -> OrderResult | None:
        """A submit commits with its record, so an order the database does not show as sent was never sent."""
        order = (
            Order.objects.filter(account=self.account, client_order_id=client_order_id)
            .exclude(broker_order_id="")
            .first()
        )
        if order is None:
            return None
        return OrderResult(
            status=_RESULT_STATUS.get(order.status, "filled"),
            client_order_id=client_order_id,
            broker_order_id=order.broker_order_id,
            reason=order.reject_reason,
        )

    def fill_pending(self, order: Order, *, price: Decimal, time: datetime) -> Fill:
        """A pending order triggered (called by the bar simulation)."""
        trade_id = self.next_transaction_id()
        signed = order.units if order.side == Side.BUY else -order.units
        return Fill(
            broker_order_id=order.broker_order_id,
            transaction_id=trade_id,
            time=time,
            price=price,
            units=signed,
            trade_opened=trade_id,
            units_opened=order.units,
        )

    def close_fill(self, trade: Trade, *, price: Decimal, time: datetime, units: Decimal | None = None) -> Fill:
        """Close (all or part of) ``trade`` at ``price``; the new balance travels with the fill."""
        units = trade.current_units if units is None else min(units, trade.current_units)
        realized = self.pl(trade.instrument, trade.side, units, trade.open_price, price)
        transaction_id = self.next_transaction_id()
        close = TradeClose(broker_trade_id=trade.broker_trade_id, units=units, price=price, realized_pl=realized)
        full = units >= trade.current_units
        balance = BrokerAccount.objects.get(pk=self.account.pk).balance + realized
        return Fill(
            broker_order_id=transaction_id,
            transaction_id=transaction_id,
            time=time,
            price=price,
            units=-units if trade.side == Side.BUY else units,
            trades_closed=(close,) if full else (),
            trade_reduced=None if full else close,
            account_balance=balance,
        )

    def get_trade(self, broker_trade_id: str) -> BrokerTrade:
        trade = (
            Trade.objects.select_related("instrument")
            .filter(account=self.account, broker_trade_id=broker_trade_id, virtual=False)
            .first()
        )
        if trade is None:
            raise BrokerNotFoundError(f"paper account has no trade {broker_trade_id}", reason="NO_SUCH_TRADE")
        return _broker_trade(trade)

    @transaction.atomic
    def close_trade(self, broker_trade_id: str, *, units: Decimal | None = None) -> OrderResult:
        trade = (
            Trade.objects.select_related("instrument")
            .filter(account=self.account, broker_trade_id=broker_trade_id, state=TradeState.OPEN)
            .first()
        )
        if trade is None:
            raise BrokerNotFoundError(f"trade {broker_trade_id} is not open", reason="NO_SUCH_TRADE")
        try:
            price = last_price(trade.instrument)
        except PriceUnavailable as e:
            raise BrokerRejectedError(str(e), reason="MARKET_HALTED") from e
        close_price = price.bid if trade.side == Side.BUY else price.ask
        fill = self.close_fill(trade, price=close_price, time=price.time or timezone.now(), units=units)
        return OrderResult(
            status="filled",
            client_order_id="",
            broker_order_id=fill.broker_order_id,
            fill=fill,
            last_transaction_id=fill.transaction_id,
        )

    def modify_trade(
        self,
        broker_trade_id: str,
        *,
        stop_loss: Decimal | None = None,
        take_profit: Decimal | None = None,
        trailing_distance: Decimal | None = None,
    ) -> None:
        if not Trade.objects.filter(
            account=self.account, broker_trade_id=broker_trade_id, state=TradeState.OPEN
        ).exists():
            raise BrokerNotFoundError(f"trade {broker_trade_id} is not open", reason="NO_SUCH_TRADE")

    def cancel_order(self, broker_order_id: str) -> None:
        exists = Order.objects.filter(
            account=self.account, broker_order_id=broker_order_id, status=OrderStatus.PENDING
        ).exists()
        if not exists:
            raise BrokerNotFoundError(f"order {broker_order_id} is not pending", reason="ORDER_DOESNT_EXIST")

    def list_open_trades(self) -> list[BrokerTrade]:
        """The broker's trades: virtual trades are the platform's book, not the broker's, and are left out."""
        rows = Trade.objects.filter(account=self.account, state=TradeState.OPEN, virtual=False)
        return [_broker_trade(t) for t in rows.select_related("instrument")]

    def list_pending_orders(self) -> list[BrokerOrder]:
        rows = Order.objects.filter(account=self.account, status=OrderStatus.PENDING, virtual=False)
        return [
            BrokerOrder(
                broker_order_id=o.broker_order_id,
                client_order_id=o.client_order_id,
                symbol=o.instrument.symbol,
                side=_SIDES[o.side],
                units=o.units,
                order_type=_TYPES[o.order_type],
                price=o.price or Decimal(0),
                stop_loss=o.stop_loss,
                take_profit=o.take_profit,
                expires_at=o.expires_at,
                instance_id=o.instance_id,
            )
            for o in rows.select_related("instrument")
        ]

    def list_events_since(self, transaction_id: str) -> list[BrokerEvent]:
        """Every paper fill is recorded as it happens; there is no history to replay."""
        return []


def _market_fill(request: OrderRequest, price: LastPrice, transaction_id: str) -> OrderResult:
    """A market order filled at the ask (buy) or bid (sell): one transaction creates, fills and opens the trade."""
    fill_price = price.ask if request.side == "buy" else price.bid
    signed = request.units if request.side == "buy" else -request.units
    fill = Fill(
        broker_order_id=transaction_id,
        transaction_id=transaction_id,
        time=price.time,
        price=fill_price,
        units=signed,
        trade_opened=transaction_id,
        units_opened=request.units,
    )
    return OrderResult(
        status="filled",
        client_order_id=request.client_order_id,
        broker_order_id=transaction_id,
        fill=fill,
        last_transaction_id=transaction_id,
    )


def _broker_trade(t: Trade) -> BrokerTrade:
    return BrokerTrade(
        broker_trade_id=t.broker_trade_id,
        symbol=t.instrument.symbol,
        side=_SIDES[t.side],
        initial_units=t.initial_units,
        current_units=t.current_units,
        open_price=t.open_price,
        open_time=t.open_time,
        state="open" if t.state == TradeState.OPEN else "closed",
        stop_loss=t.stop_loss,
        take_profit=t.take_profit,
        trailing_distance=t.trailing_distance,
        close_time=t.close_time,
        close_price=t.close_price,
        realized_pl=t.realized_pl,
        instance_id=t.instance_id,
    )
