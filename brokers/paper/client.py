"""Paper broker: fills at the latest bar's bid/ask, state in the platform's own tables.

Rules:
- Market orders fill immediately at the ask (buy) or bid (sell) of the newest complete bar; the bid
  is the bar close, the ask adds the bar's spread (or the instrument's configured spread).
- Pending orders, stop losses and take profits are checked on later bars by brokers.paper.simulate.
- P/L = price difference × units, converted from the quote currency to the account currency.
- Hedging is allowed (every open is its own trade), as on a non-FIFO account.
Because the paper broker is the database, its calls must run inside the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

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
    Quote,
    TradeClose,
)
from brokers.errors import BrokerNotFoundError, BrokerRejectedError
from trading.models import BrokerAccount, Instrument, Order, OrderStatus, Side, Trade, TradeState
from trading.services.prices import PriceUnavailable, last_price, quote_to_account_rate

MONEY = Decimal("0.000001")


def money(value: Decimal) -> Decimal:
    return value.quantize(MONEY, rounding=ROUND_HALF_EVEN)


class PaperBroker:
    """BrokerClient for paper accounts."""

    in_process = True

    def __init__(self, account: BrokerAccount) -> None:
        self.account = account
        self._instruments: dict[str, Instrument] = {}  # by symbol, for the life of this client (one dispatch)

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

    def _next_transaction_id(self) -> str:
        """One atomic UPDATE … RETURNING: concurrent fills on the account never share an id."""
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE trading_brokeraccount SET last_transaction_id = CAST(CAST(CASE WHEN last_transaction_id = ''"
                " THEN '0' ELSE last_transaction_id END AS INTEGER) + 1 AS TEXT) WHERE id = %s"
                " RETURNING last_transaction_id",
                [self.account.pk],
            )
            new = str(cursor.fetchone()[0])
        self.account.last_transaction_id = new
        return new

    def _now(self, quote_time: datetime | None = None) -> datetime:
        return quote_time or timezone.now()

    def pl(
        self, instrument: Instrument, side: str, units: Decimal, open_price: Decimal, close_price: Decimal
    ) -> Decimal:
        diff = (close_price - open_price) if side == Side.BUY else (open_price - close_price)
        rate = quote_to_account_rate(instrument, self.account.currency, price=close_price)
        return money(diff * units * rate)

    # --- BrokerClient ------------------------------------------------------------------------
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
            open_trade_count=Trade.objects.filter(account=account, state=TradeState.OPEN).count(),
        )

    def get_quote(self, instrument: InstrumentRef) -> Quote:
        inst = self._instrument(instrument.symbol)
        price = last_price(inst)
        return Quote(symbol=inst.symbol, bid=price.bid, ask=price.ask, time=price.time)

    def submit_order(self, request: OrderRequest) -> OrderResult:
        # Every check comes before the one write (the transaction id, a single atomic UPDATE), so a rejected
        # request writes nothing and no savepoint is needed around it.
        inst = self._instrument(request.instrument.symbol)
        if request.units <= 0:
            raise BrokerRejectedError(f"units must be positive, was {request.units}", reason="UNITS_INVALID")
        try:
            price = last_price(inst)
        except PriceUnavailable as e:
            raise BrokerRejectedError(str(e), reason="MARKET_HALTED") from e
        if request.order_type != "market" and (request.price is None or request.price <= 0):
            raise BrokerRejectedError("a pending order needs a positive price", reason="PRICE_INVALID")
        transaction_id = self._next_transaction_id()
        if request.order_type != "market":
            return OrderResult(
                status="pending",
                client_order_id=request.client_order_id,
                broker_order_id=transaction_id,
                last_transaction_id=transaction_id,
            )
        fill_price = price.ask if request.side == "buy" else price.bid
        trade_id = transaction_id  # one transaction creates the order, fills it and opens the trade
        signed = request.units if request.side == "buy" else -request.units
        fill = Fill(
            broker_order_id=transaction_id,
            transaction_id=trade_id,
            time=self._now(price.time),
            price=fill_price,
            units=signed,
            trade_opened=trade_id,
            units_opened=request.units,
        )
        return OrderResult(
            status="filled",
            client_order_id=request.client_order_id,
            broker_order_id=transaction_id,
            fill=fill,
            last_transaction_id=trade_id,
        )

    def fill_pending(self, order: Order, *, price: Decimal, time: datetime) -> Fill:
        """A pending order triggered (called by the bar simulation)."""
        trade_id = self._next_transaction_id()
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
        transaction_id = self._next_transaction_id()
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

    @transaction.atomic
    def close_trade(self, broker_trade_id: str, *, units: Decimal | None = None) -> OrderResult:
        trade = (
            Trade.objects.select_related("instrument")
            .filter(account=self.account, broker_trade_id=broker_trade_id, state=TradeState.OPEN)
            .first()
        )
        if trade is None:
            raise BrokerNotFoundError(f"trade {broker_trade_id} is not open", reason="NO_SUCH_TRADE")
        price = last_price(trade.instrument)
        close_price = price.bid if trade.side == Side.BUY else price.ask
        fill = self.close_fill(trade, price=close_price, time=self._now(price.time), units=units)
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

    def find_order(self, client_order_id: str) -> OrderResult | None:
        # Paper submits commit together with their record, so an unknown outcome cannot happen.
        return None

    def list_open_trades(self) -> list[BrokerTrade]:
        return [
            BrokerTrade(
                broker_trade_id=t.broker_trade_id,
                symbol=t.instrument.symbol,
                side=t.side,  # type: ignore[arg-type]
                initial_units=t.initial_units,
                current_units=t.current_units,
                open_price=t.open_price,
                open_time=t.open_time,
                stop_loss=t.stop_loss,
                take_profit=t.take_profit,
                instance_id=t.instance_id,
            )
            for t in Trade.objects.filter(account=self.account, state=TradeState.OPEN).select_related("instrument")
        ]

    def list_pending_orders(self) -> list[BrokerOrder]:
        return [
            BrokerOrder(
                broker_order_id=o.broker_order_id,
                client_order_id=o.client_order_id,
                symbol=o.instrument.symbol,
                side=o.side,
                units=o.units,
                order_type=o.order_type,
                price=o.price or Decimal(0),  # type: ignore[arg-type]
                stop_loss=o.stop_loss,
                take_profit=o.take_profit,
                expires_at=o.expires_at,
                instance_id=o.instance_id,
            )
            for o in Order.objects.filter(account=self.account, status=OrderStatus.PENDING).select_related("instrument")
        ]

    def list_events_since(self, transaction_id: str) -> list[BrokerEvent]:
        return []
