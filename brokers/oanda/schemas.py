"""Typed values specific to OANDA that are not part of ``brokers.base`` (candles, instruments, changes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from brokers.base import BrokerEvent, InstrumentRef

PriceComponent = str  # "M", "B", "A" or any mix such as "BA", "MBA"


@dataclass(frozen=True)
class OHLC:
    o: Decimal
    h: Decimal
    l: Decimal  # noqa: E741 - OANDA's field name
    c: Decimal


@dataclass(frozen=True)
class Candle:
    """One bar. ``time`` is the bar's start in UTC; only the requested sides are set."""

    symbol: str
    granularity: str
    time: datetime
    volume: int
    complete: bool
    mid: OHLC | None = None
    bid: OHLC | None = None
    ask: OHLC | None = None


@dataclass(frozen=True)
class InstrumentSpec:
    """An instrument as the account sees it, with the precisions orders must respect."""

    ref: InstrumentRef
    type: str
    display_name: str
    pip_location: int
    minimum_trade_size: Decimal
    maximum_order_units: Decimal
    margin_rate: Decimal
    minimum_trailing_stop_distance: Decimal
    maximum_trailing_stop_distance: Decimal


@dataclass(frozen=True)
class AccountInfo:
    """One entry of GET /v3/accounts."""

    account_id: str
    tags: tuple[str, ...] = ()
    mt4_account_id: int | None = None  # present only for accounts linked to MetaTrader 4

    @property
    def mt4_linked(self) -> bool:
        return self.mt4_account_id is not None or "MT4" in self.tags


@dataclass(frozen=True)
class AccountChanges:
    """GET /accounts/{id}/changes, reduced to ids and the new events."""

    last_transaction_id: str
    events: tuple[BrokerEvent, ...]
    orders_created: tuple[str, ...]
    orders_cancelled: tuple[str, ...]
    orders_filled: tuple[str, ...]
    trades_opened: tuple[str, ...]
    trades_reduced: tuple[str, ...]
    trades_closed: tuple[str, ...]
    nav: Decimal | None = None
    unrealized_pl: Decimal | None = None
    margin_used: Decimal | None = None


@dataclass(frozen=True)
class OpenPosition:
    symbol: str
    long_units: Decimal
    short_units: Decimal  # negative or zero, as OANDA sends it
    long_average_price: Decimal | None
    short_average_price: Decimal | None
    unrealized_pl: Decimal
    trade_ids: tuple[str, ...]
