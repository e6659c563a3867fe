"""What the fake cTrader server knows: symbols, accounts, their positions, orders and deals.

Units follow the wire (Spotware's proto comments): volumes in cents of a unit, money in cents of the deposit
currency (moneyDigits 2), times in Unix milliseconds. Prices are kept as Decimal at the symbol's digits and
put on the wire as doubles (orders, positions, deals) or integers in 1/100,000 (spots, trend bars).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Symbol:
    symbol_id: int
    name: str
    base: str
    quote: str
    digits: int = 5
    pip_position: int = 4
    lot_size: int = 10_000_000  # cents: 100,000 units
    min_volume: int = 100_000  # 1,000 units
    step_volume: int = 100_000
    max_volume: int = 10_000_000_000
    bid: Decimal = Decimal("1.10000")
    ask: Decimal = Decimal("1.10010")
    quoted_at: int = field(default_factory=now_ms)


@dataclass
class Order:
    order_id: int
    account_id: int
    symbol_id: int
    order_type: int  # ProtoOAOrderType: 1 market, 2 limit, 3 stop, 4 stop loss / take profit
    side: int  # 1 buy, 2 sell
    volume: int
    status: int = 1  # ProtoOAOrderStatus: 1 accepted, 2 filled, 3 rejected, 4 expired, 5 cancelled
    label: str = ""
    comment: str = ""
    client_order_id: str = ""
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    expires_ms: int | None = None
    time_in_force: int = 2
    position_id: int = 0
    closing: bool = False
    stop_out: bool = False
    executed_volume: int = 0
    execution_price: Decimal | None = None
    created_ms: int = field(default_factory=now_ms)
    updated_ms: int = field(default_factory=now_ms)


@dataclass
class Position:
    position_id: int
    account_id: int
    symbol_id: int
    side: int
    volume: int
    price: Decimal
    opened_ms: int
    label: str = ""
    comment: str = ""
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    swap: int = 0  # cents accrued, realised in proportion as the position closes
    commission: int = 0  # cents charged at the open
    open: bool = True
    updated_ms: int = field(default_factory=now_ms)


@dataclass
class CloseDetail:
    entry_price: Decimal
    gross_profit: int
    swap: int
    commission: int
    balance: int
    closed_volume: int


@dataclass
class Deal:
    deal_id: int
    order_id: int
    position_id: int
    account_id: int
    symbol_id: int
    side: int
    volume: int
    price: Decimal
    executed_ms: int
    commission: int = 0
    close: CloseDetail | None = None
    status: int = 2  # ProtoOADealStatus FILLED


@dataclass
class Account:
    account_id: int
    login: int
    hedging: bool = True
    balance: int = 10_000_000  # cents: 100,000.00
    deposit_asset: int = 2  # USD in the default asset list
    leverage_in_cents: int = 5000
    live: bool = False
    positions: dict[int, Position] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    deals: list[Deal] = field(default_factory=list)


@dataclass
class Grant:
    """One access token: the accounts it opens, its expiry, and its refresh token."""

    access_token: str
    refresh_token: str
    accounts: tuple[int, ...]
    expires_ms: int
    revoked: bool = False
