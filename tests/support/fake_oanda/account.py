"""One fake OANDA account: its transaction counter, orders, trades and balance, in OANDA's JSON shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from tests.support.fake_oanda.common import J


@dataclass
class Account:
    id: str
    currency: str
    balance: Decimal
    hedging: bool
    fifo: bool
    alias: str = "Primary"
    last_id: int = 0
    created: str = ""
    transactions: list[J] = field(default_factory=list)
    orders: dict[str, J] = field(default_factory=dict)
    trades: dict[str, J] = field(default_factory=dict)
    pl: Decimal = Decimal("0")
    mt4_account_id: int | None = None  # set: the account is linked to MetaTrader 4
    margin_available: Decimal | None = None  # set: what the account reports and checks instead of NAV - margin

    def next_id(self) -> str:
        self.last_id += 1
        return str(self.last_id)

    def next_id_peek(self) -> str:
        return str(self.last_id + 1)

    @property
    def last(self) -> str:
        return str(self.last_id)
