"""The fake cTrader's trading rules: orders fill, positions open and close, deals record P/L, swap, commission.

Hedged accounts open a position per order; netted accounts keep one position per symbol: an order on the same
side adds to it, an opposite order closes it (partly), and what is left over opens a new position. Market orders
fill at the ask (buys) or bid (sells); a resting limit or stop order fills at its price once the market reaches
it; a position's stop loss or take profit closes it at that level (its closing order is a STOP_LOSS_TAKE_PROFIT
order with ``stopPrice`` for a stop loss and ``limitPrice`` for a take profit, sent as a server event).
P/L is converted to the deposit currency with the closing price (quote = deposit) or divided by it (base =
deposit). Every change yields ``Exec`` records that the server turns into ``ProtoOAExecutionEvent``s.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from tests.support.fake_ctrader.state import (
    Account,
    CloseDetail,
    Deal,
    Grant,
    Order,
    Position,
    Symbol,
    now_ms,
)

ACCEPTED, FILLED, REPLACED, CANCELLED, EXPIRED, REJECTED, PARTIAL = 2, 3, 4, 5, 6, 7, 11
MARKET, LIMIT, STOP, PROTECTION = 1, 2, 3, 4
BUY, SELL = 1, 2


class Refused(Exception):  # noqa: N818 - carries an error code to the client
    def __init__(self, code: str, description: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.description = description


@dataclass
class Exec:
    """One execution event to send: its type, the order, the position and the deal it concerns."""

    kind: int
    account_id: int
    order: Order
    position: Position | None = None
    deal: Deal | None = None
    server_event: bool = False
    error_code: str = ""


class Broker:
    def __init__(self, *, commission_per_lot: int = 0) -> None:
        self.lock = threading.RLock()
        self.symbols: dict[int, Symbol] = {}
        self.assets: dict[int, str] = {1: "EUR", 2: "USD", 3: "JPY", 4: "GBP"}
        self.accounts: dict[int, Account] = {}
        self.grants: dict[str, Grant] = {}
        self.commission_per_lot = commission_per_lot  # cents per 100,000 units per side
        self._ids = itertools.count(1001)

    def next_id(self) -> int:
        return next(self._ids)

    def symbol(self, symbol_id: int) -> Symbol:
        try:
            return self.symbols[symbol_id]
        except KeyError:
            raise Refused("SYMBOL_NOT_FOUND", f"symbol {symbol_id}") from None

    def symbol_named(self, name: str) -> Symbol:
        return next(s for s in self.symbols.values() if s.name == name)

    # -- money ----------------------------------------------------------------------------------------

    def to_deposit(self, account: Account, symbol: Symbol, amount_quote: Decimal, price: Decimal) -> int:
        """An amount in the symbol's quote currency → cents of the deposit currency."""
        deposit = self.assets[account.deposit_asset]
        if symbol.quote == deposit:
            amount = amount_quote
        elif symbol.base == deposit:
            amount = amount_quote / price
        else:
            amount = amount_quote * self._rate(symbol.quote, deposit)
        return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))

    def _rate(self, currency: str, deposit: str) -> Decimal:
        for s in self.symbols.values():
            mid = (s.bid + s.ask) / 2
            if (s.base, s.quote) == (currency, deposit):
                return mid
            if (s.base, s.quote) == (deposit, currency):
                return 1 / mid
        return Decimal(1)

    def commission(self, volume: int) -> int:
        return -int((Decimal(volume) / 10_000_000 * self.commission_per_lot).quantize(Decimal(1)))

    def unrealized(self, account: Account, position: Position) -> int:
        symbol = self.symbols[position.symbol_id]
        exit_price = symbol.bid if position.side == BUY else symbol.ask
        return self.to_deposit(account, symbol, self._pl(position, exit_price, position.volume), exit_price)

    @staticmethod
    def _pl(position: Position, exit_price: Decimal, volume: int) -> Decimal:
        direction = 1 if position.side == BUY else -1
        return (exit_price - position.price) * Decimal(volume) / 100 * direction

    # -- orders -------------------------------------------------------------------------------------

    def place(self, account: Account, order: Order) -> list[Exec]:
        symbol = self.symbol(order.symbol_id)
        if order.volume < symbol.min_volume or order.volume % symbol.step_volume:
            raise Refused(
                "TRADING_BAD_VOLUME", f"volume {order.volume} (min {symbol.min_volume}, step {symbol.step_volume})"
            )
        if order.order_type == MARKET and (order.stop_loss is not None or order.take_profit is not None):
            raise Refused("INVALID_REQUEST", "absolute stop loss / take profit are not supported on MARKET orders")
        account.orders[order.order_id] = order
        if order.order_type != MARKET:
            return [Exec(ACCEPTED, account.account_id, order)]
        price = symbol.ask if order.side == BUY else symbol.bid
        return [Exec(ACCEPTED, account.account_id, order), *self.fill(account, order, price)]

    def fill(self, account: Account, order: Order, price: Decimal, *, server: bool = False) -> list[Exec]:
        """Fill ``order`` whole at ``price``: close opposite volume first on a netted account, open the rest."""
        left = order.volume
        execs: list[Exec] = []
        if order.closing:
            position = account.positions[order.position_id]
            execs.append(self._close(account, order, position, min(left, position.volume), price, server))
            left = 0
        elif not account.hedging:
            for position in [p for p in account.positions.values() if p.symbol_id == order.symbol_id]:
                if position.side != order.side and left:
                    closed = min(left, position.volume)
                    execs.append(self._close(account, order, position, closed, price, server))
                    left -= closed
                elif position.side == order.side and left:
                    execs.append(self._add(account, order, position, left, price, server))
                    left = 0
        if left:
            execs.append(self._open(account, order, left, price, server))
        order.status, order.executed_volume, order.execution_price = 2, order.volume, price
        order.updated_ms = now_ms()
        for e in execs[:-1]:
            e.kind = PARTIAL
        return execs

    def _deal(self, account: Account, order: Order, position: Position, volume: int, price: Decimal) -> Deal:
        deal = Deal(
            deal_id=self.next_id(),
            order_id=order.order_id,
            position_id=position.position_id,
            account_id=account.account_id,
            symbol_id=order.symbol_id,
            side=order.side,
            volume=volume,
            price=price,
            executed_ms=now_ms(),
        )
        account.deals.append(deal)
        order.position_id = order.position_id or position.position_id
        return deal

    def _open(self, account: Account, order: Order, volume: int, price: Decimal, server: bool) -> Exec:
        position = Position(
            position_id=self.next_id(),
            account_id=account.account_id,
            symbol_id=order.symbol_id,
            side=order.side,
            volume=volume,
            price=price,
            opened_ms=now_ms(),
            label=order.label,
            comment=order.comment,
            stop_loss=order.stop_loss,
            take_profit=order.take_profit,
        )
        account.positions[position.position_id] = position
        deal = self._deal(account, order, position, volume, price)
        deal.commission = self.commission(volume)
        position.commission = deal.commission
        account.balance += deal.commission
        return Exec(FILLED, account.account_id, order, position, deal, server)

    def _add(
        self, account: Account, order: Order, position: Position, volume: int, price: Decimal, server: bool
    ) -> Exec:
        total = position.volume + volume
        symbol = self.symbols[position.symbol_id]
        vwap = (position.price * position.volume + price * volume) / total
        position.price = vwap.quantize(Decimal(1).scaleb(-symbol.digits), rounding=ROUND_HALF_EVEN)
        position.volume = total
        deal = self._deal(account, order, position, volume, price)
        deal.commission = self.commission(volume)
        account.balance += deal.commission
        return Exec(FILLED, account.account_id, order, position, deal, server)

    def _close(
        self, account: Account, order: Order, position: Position, volume: int, price: Decimal, server: bool
    ) -> Exec:
        symbol = self.symbols[position.symbol_id]
        gross = self.to_deposit(account, symbol, self._pl(position, price, volume), price)
        swap = position.swap * volume // position.volume
        commission = self.commission(volume)
        position.swap -= swap
        position.volume -= volume
        account.balance += gross + swap + commission
        deal = self._deal(account, order, position, volume, price)
        deal.side = BUY if position.side == SELL else SELL
        deal.close = CloseDetail(position.price, gross, swap, commission, account.balance, volume)
        if position.volume == 0:
            position.open = False
            del account.positions[position.position_id]
        position.updated_ms = now_ms()
        return Exec(FILLED, account.account_id, order, position, deal, server)

    def closing_order(
        self, account: Account, position: Position, volume: int, *, kind: int = MARKET, **fields: object
    ) -> Order:
        order = Order(
            order_id=self.next_id(),
            account_id=account.account_id,
            symbol_id=position.symbol_id,
            order_type=kind,
            side=BUY if position.side == SELL else SELL,
            volume=volume,
            position_id=position.position_id,
            closing=True,
            label=position.label,
            comment=position.comment,
        )
        for name, value in fields.items():
            setattr(order, name, value)
        account.orders[order.order_id] = order
        return order

    # -- the market moves -----------------------------------------------------------------------------

    def reprice(self, symbol: Symbol) -> list[Exec]:
        """Resting orders that the new price reaches fill; stop losses and take profits close positions."""
        execs: list[Exec] = []
        now = now_ms()
        for account in self.accounts.values():
            for order in [o for o in account.orders.values() if o.status == 1 and o.symbol_id == symbol.symbol_id]:
                if order.order_type not in (LIMIT, STOP):
                    continue
                if order.expires_ms is not None and order.expires_ms <= now:
                    order.status = 4
                    execs.append(Exec(EXPIRED, account.account_id, order, server_event=True))
                    continue
                price = symbol.ask if order.side == BUY else symbol.bid
                level = order.limit_price if order.order_type == LIMIT else order.stop_price
                assert level is not None
                # buy limit: ask <= level; sell limit: bid >= level; buy stop: ask >= level; sell stop: bid <= level
                falls_to = (order.order_type == LIMIT) == (order.side == BUY)
                if (price <= level) if falls_to else (price >= level):
                    execs += self.fill(account, order, level, server=True)
            for position in [p for p in account.positions.values() if p.symbol_id == symbol.symbol_id]:
                execs += self._protection(account, position, symbol)
        return execs

    def _protection(self, account: Account, position: Position, symbol: Symbol) -> list[Exec]:
        price = symbol.bid if position.side == BUY else symbol.ask
        up = position.side == BUY
        sl, tp = position.stop_loss, position.take_profit
        if sl is not None and (price <= sl if up else price >= sl):
            order = self.closing_order(account, position, position.volume, kind=PROTECTION, stop_price=sl)
            return self.fill(account, order, sl, server=True)
        if tp is not None and (price >= tp if up else price <= tp):
            order = self.closing_order(account, position, position.volume, kind=PROTECTION, limit_price=tp)
            return self.fill(account, order, tp, server=True)
        return []
