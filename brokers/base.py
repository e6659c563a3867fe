"""The interface every broker client implements, and the typed values that cross it.

Prices, units and money are Decimal; times are aware UTC datetimes. Raw broker payloads never leave a
client: ``trading/`` only sees these dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal, Protocol

SideLiteral = Literal["buy", "sell"]
OrderTypeLiteral = Literal["market", "limit", "stop", "market_if_touched"]
OrderResultStatus = Literal["filled", "pending", "cancelled", "rejected"]


@dataclass(frozen=True)
class InstrumentRef:
    symbol: str  # platform symbol, e.g. EURUSD
    broker_symbol: str  # broker's name, e.g. EUR_USD
    digits: int
    unit_precision: int = 0


@dataclass(frozen=True)
class Quote:
    symbol: str
    bid: Decimal
    ask: Decimal
    time: datetime
    tradeable: bool = True


@dataclass(frozen=True)
class AccountState:
    currency: str
    balance: Decimal
    equity: Decimal
    margin_used: Decimal
    unrealized_pl: Decimal
    hedging_enabled: bool
    last_transaction_id: str
    open_trade_count: int = 0


@dataclass(frozen=True)
class OrderRequest:
    """One order to send. ``client_order_id`` is our deterministic id; ``instance_id`` is the magic number."""

    client_order_id: str
    instance_id: int
    instrument: InstrumentRef
    side: SideLiteral
    units: Decimal  # positive
    order_type: OrderTypeLiteral = "market"
    price: Decimal | None = None  # required for pending orders
    stop_loss: Decimal | None = None  # absolute price
    take_profit: Decimal | None = None  # absolute price
    trailing_distance: Decimal | None = None  # price units
    expires_at: datetime | None = None  # GTD for pending orders
    price_bound: Decimal | None = None


@dataclass(frozen=True)
class TradeClose:
    """One trade closed or reduced by a fill."""

    broker_trade_id: str
    units: Decimal  # positive size that was closed
    price: Decimal
    realized_pl: Decimal
    financing: Decimal = Decimal("0")
    commission: Decimal = Decimal("0")


@dataclass(frozen=True)
class Fill:
    broker_order_id: str
    transaction_id: str
    time: datetime
    price: Decimal
    units: Decimal  # signed: + buy, - sell
    trade_opened: str | None = None  # broker trade id opened by this fill
    units_opened: Decimal = Decimal("0")
    trades_closed: tuple[TradeClose, ...] = ()
    trade_reduced: TradeClose | None = None
    commission: Decimal = Decimal("0")
    financing: Decimal = Decimal("0")
    half_spread_cost: Decimal = Decimal("0")
    account_balance: Decimal | None = None


@dataclass(frozen=True)
class OrderResult:
    status: OrderResultStatus
    client_order_id: str
    broker_order_id: str = ""
    fill: Fill | None = None
    reason: str = ""  # reject or cancel reason
    last_transaction_id: str = ""


@dataclass(frozen=True)
class BrokerTrade:
    broker_trade_id: str
    symbol: str  # platform symbol
    side: SideLiteral
    initial_units: Decimal
    current_units: Decimal
    open_price: Decimal
    open_time: datetime
    state: Literal["open", "closed"] = "open"
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    trailing_distance: Decimal | None = None
    realized_pl: Decimal = Decimal("0")
    unrealized_pl: Decimal = Decimal("0")
    financing: Decimal = Decimal("0")
    close_time: datetime | None = None
    close_price: Decimal | None = None
    client_trade_id: str = ""
    instance_id: int | None = None  # parsed from the trade's tag; None = opened outside the platform


@dataclass(frozen=True)
class BrokerOrder:
    """A pending (resting) order at the broker."""

    broker_order_id: str
    client_order_id: str
    symbol: str
    side: SideLiteral
    units: Decimal
    order_type: OrderTypeLiteral
    price: Decimal
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    expires_at: datetime | None = None
    instance_id: int | None = None


@dataclass(frozen=True)
class TradeFinancing:
    """One trade's share of a daily financing charge (account currency; negative = paid)."""

    broker_trade_id: str
    financing: Decimal


@dataclass(frozen=True)
class BrokerEvent:
    """One broker transaction, reduced to what history sync needs."""

    transaction_id: str
    type: str  # broker transaction type, e.g. ORDER_FILL, ORDER_CANCEL, DAILY_FINANCING
    time: datetime
    symbol: str = ""
    reason: str = ""  # e.g. STOP_LOSS_ORDER, TAKE_PROFIT_ORDER, MARKET_ORDER_TRADE_CLOSE
    order_id: str = ""
    client_order_id: str = ""
    fill: Fill | None = None
    financing: Decimal = Decimal("0")
    trade_financings: tuple[TradeFinancing, ...] = ()  # DAILY_FINANCING split per open trade
    raw_type_detail: dict[str, str] = field(default_factory=dict)


class BrokerClient(Protocol):
    """What the domain may ask of a broker. Implementations: brokers.oanda.OandaClient, the paper ledger
    (trading/venues/paper/ledger.py), later others; the domain reaches each through its venue adapter."""

    @property
    def last_transaction_id(self) -> str | None:
        """The newest broker transaction id this client has seen (None before the first call)."""
        ...

    def get_account_state(self) -> AccountState: ...

    def get_quote(self, instrument: InstrumentRef) -> Quote: ...

    def submit_order(self, request: OrderRequest) -> OrderResult:
        """Send one order. Raises BrokerUnknownOutcomeError when the outcome is not known."""
        ...

    def submit_order_idempotent(self, request: OrderRequest, *, since_transaction_id: str | None = None) -> OrderResult:
        """Look the order up by its client id first; send it only when the broker provably has no trace of it."""
        ...

    def find_order(self, client_order_id: str, *, since_transaction_id: str | None = None) -> OrderResult | None:
        """Look an order up by our client id (idempotency check after a lost answer).

        ``since_transaction_id``: the broker's newest transaction before the order was sent, where the search
        may start.
        """
        ...

    def get_trade(self, broker_trade_id: str) -> BrokerTrade:
        """One trade, open or closed. Raises BrokerNotFoundError when the broker has no such trade."""
        ...

    def close_trade(self, broker_trade_id: str, *, units: Decimal | None = None) -> OrderResult: ...

    def modify_trade(
        self,
        broker_trade_id: str,
        *,
        stop_loss: Decimal | None = None,
        take_profit: Decimal | None = None,
        trailing_distance: Decimal | None = None,
    ) -> None: ...

    def cancel_order(self, broker_order_id: str) -> None: ...

    def list_open_trades(self) -> list[BrokerTrade]: ...

    def list_pending_orders(self) -> list[BrokerOrder]: ...

    def list_events_since(self, transaction_id: str) -> list[BrokerEvent]: ...
