"""The simulated broker of the parity engine, in integer points with float money.

Its rules are the paper broker's (brokers.paper.rules: pending triggers, SL/TP on the bar's
high/low with the spread, gaps fill at the open, the stop loss wins) plus the costs of
:class:`~backtests.engine.market.Costs`. framework/c/src/backtest.c implements the same steps in the
same order with the same float expressions, so both engines produce bit-identical trades.

Time line of one tested bar i (the strategy runs at its close, as live):
1. ``on_bar(i)``: pending orders past their expiry are cancelled, the others trigger (in ticket
   order); then stop loss / take profit of the trades opened before (in ticket order).
2. the strategy runs at the bar's close with bid = close, ask = close + spread;
3. ``apply`` executes the translated intents at that bid/ask.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

import numpy as np

from backtests.engine.market import Costs, MarketData
from brokers.paper.rules import exit_price, pending_fill_price

DAY = 86400


@dataclass(slots=True)
class SimTrade:
    ticket: int
    buy: bool
    order_type: str  # how it opened: market, stop or limit
    units_ticks: int  # units × 10^unit_precision
    units: float
    open_time: int
    open_price: int  # points
    stop_loss: int  # points, 0 = none
    take_profit: int


@dataclass(slots=True)
class SimOrder:
    ticket: int
    buy: bool
    stop: bool
    units_ticks: int
    units: float
    price: int
    stop_loss: int
    take_profit: int
    expires: int  # framework time, 0 = good till cancelled
    created: int


class ClosedTrade(NamedTuple):
    """One finished trade; prices in points, money in the account currency (floats).

    A named tuple: the fast engine builds tens of thousands per run straight from its C rows
    (``_make``, no Python ``__init__`` per trade).
    """

    ticket: int
    side: str
    order_type: str
    units: float
    open_time: int
    close_time: int
    open_price: int
    close_price: int
    stop_loss: int
    take_profit: int
    pl: float
    commission: float
    swap: float
    profit: float
    reason: str  # strategy, stop_loss, take_profit, end_of_test, stop_out

    def key(self) -> tuple[object, ...]:
        """Everything that identifies the trade, for exact comparisons."""
        return tuple(self)


def rollover_nights(open_time: int, close_time: int) -> int:
    """Swap nights between two times: each 00:00 UTC crossed counts once for the midnights that start
    Tuesday, Wednesday, Friday and Saturday, three times for Thursday's (the Wednesday rollover carries
    the weekend) and not at all for Sunday's and Monday's: 7 per full week."""
    nights = 0
    for day in range(open_time // DAY + 1, close_time // DAY + 1):
        weekday = (day + 3) % 7  # epoch day 0 was a Thursday; 0 = Monday
        nights += _NIGHTS[weekday]
    return nights


_NIGHTS = (0, 1, 1, 3, 1, 1, 0)


class SimBroker:
    """Open trades, pending orders, closed trades and the balance of one backtest."""

    def __init__(self, data: MarketData, costs: Costs, initial_balance: float) -> None:
        self.data = data
        self.costs = costs
        self.balance = float(initial_balance)
        self.trades: list[SimTrade] = []
        self.orders: list[SimOrder] = []
        self.closed: list[ClosedTrade] = []
        self.next_ticket = 1
        self.version = 0  # bumped on every change of the book (open/close/modify/cancel)
        self.rejected = 0
        self.scale = data.scale
        self.unit_scale = float(10**data.unit_precision)
        self.cs = data.contract_size
        # int64 views: indexing one gives a Python int directly (no numpy scalar), without a list's memory
        self._bar = tuple(
            np.ascontiguousarray(a, dtype=np.int64).data  # the array's own view (numpy's stubs: no __buffer__)
            for a in (data.open, data.high, data.low, data.spread, data.time_open)
        )

    # --- money ---------------------------------------------------------------------------------
    def rate(self, price: int) -> float:
        if self.data.rate_mode == 1:
            return 1.0 / (price / self.scale)
        return self.data.fixed_rate

    def pl(self, buy: bool, units: float, open_price: int, price: int) -> float:
        diff = price - open_price if buy else open_price - price
        return diff * units / self.scale * self.rate(price)

    def unrealized(self, bid: int, ask: int) -> float:
        total = 0.0
        for t in self.trades:
            total += self.pl(t.buy, t.units, t.open_price, bid if t.buy else ask)
        return total

    # --- bar processing -----------------------------------------------------------------------
    def on_bar(self, i: int) -> None:
        """Pending triggers and expiries, then SL/TP of trades opened before this bar."""
        if not self.orders and not self.trades:
            return
        opens, highs, lows, spreads, times = self._bar
        o, h, lo, sp, t = opens[i], highs[i], lows[i], spreads[i], times[i]
        slip = self.costs.slippage_points
        opened_now = 0
        if self.orders:
            keep: list[SimOrder] = []
            for order in self.orders:
                if order.expires and order.expires <= t:
                    self.version += 1
                    continue
                price = pending_fill_price(
                    buy=order.buy, stop=order.stop, level=order.price, open_=o, high=h, low=lo, spread=sp
                )
                if price is None:
                    keep.append(order)
                    continue
                if order.stop:
                    price = price + slip if order.buy else price - slip
                self.trades.append(
                    SimTrade(
                        self.next_ticket,
                        order.buy,
                        "stop" if order.stop else "limit",
                        order.units_ticks,
                        order.units,
                        t,
                        price,
                        order.stop_loss,
                        order.take_profit,
                    )
                )
                self.next_ticket += 1
                opened_now += 1
                self.version += 1
            self.orders = keep
        checked = len(self.trades) - opened_now
        index = 0
        while index < checked:
            trade = self.trades[index]
            hit = exit_price(
                buy=trade.buy,
                stop_loss=trade.stop_loss or None,
                take_profit=trade.take_profit or None,
                open_=o,
                high=h,
                low=lo,
                spread=sp,
            )
            if hit is None:
                index += 1
                continue
            price, kind = hit
            if kind == "stop_loss":
                price = price - slip if trade.buy else price + slip
            self._close(index, price, t, kind)
            checked -= 1

    def _close(self, index: int, price: int, time: int, reason: str) -> None:
        t = self.trades.pop(index)
        pl = self.pl(t.buy, t.units, t.open_price, price)
        lots = t.units / self.cs
        commission = self.costs.commission_per_lot * lots
        swap_rate = self.costs.swap_long_per_lot if t.buy else self.costs.swap_short_per_lot
        swap = rollover_nights(t.open_time, time) * swap_rate * lots
        profit = pl - commission + swap
        self.balance += profit
        self.closed.append(
            ClosedTrade(
                t.ticket,
                "buy" if t.buy else "sell",
                t.order_type,
                t.units,
                t.open_time,
                time,
                t.open_price,
                price,
                t.stop_loss,
                t.take_profit,
                pl,
                commission,
                swap,
                profit,
                reason,
            )
        )
        self.version += 1

    def close_all(self, bid: int, ask: int, time: int, reason: str) -> None:
        """Close every open trade at the bid/ask (no slippage) and drop pending orders."""
        while self.trades:
            self._close(0, bid if self.trades[0].buy else ask, time, reason)
        self.orders = []

    # --- intents from the strategy ----------------------------------------------------------
    def _stops(self, buy: bool, reference: int, sl: int, tp: int) -> tuple[int, int, bool]:
        """Apply the minimum stop distance; returns (sl, tp, accepted)."""
        d = self.costs.min_stop_points
        if d <= 0:
            return sl, tp, True
        widen = self.costs.min_stop_mode == "widen"
        if sl:
            bad = (reference - sl < d) if buy else (sl - reference < d)
            if bad:
                if not widen:
                    return sl, tp, False
                sl = reference - d if buy else reference + d
        if tp:
            bad = (tp - reference < d) if buy else (reference - tp < d)
            if bad:
                if not widen:
                    return sl, tp, False
                tp = reference + d if buy else reference - d
        return sl, tp, True

    def open_market(self, buy: bool, units_ticks: int, sl: int, tp: int, bid: int, ask: int, time: int) -> None:
        slip = self.costs.slippage_points
        price = ask + slip if buy else bid - slip
        sl, tp, ok = self._stops(buy, bid if buy else ask, sl, tp)
        if not ok:
            self.rejected += 1
            return
        self.trades.append(
            SimTrade(self.next_ticket, buy, "market", units_ticks, units_ticks / self.unit_scale, time, price, sl, tp)
        )
        self.next_ticket += 1
        self.version += 1

    def open_pending(
        self, buy: bool, stop: bool, units_ticks: int, price: int, sl: int, tp: int, expires: int, time: int
    ) -> None:
        sl, tp, ok = self._stops(buy, price, sl, tp)
        if not ok:
            self.rejected += 1
            return
        self.orders.append(
            SimOrder(
                self.next_ticket, buy, stop, units_ticks, units_ticks / self.unit_scale, price, sl, tp, expires, time
            )
        )
        self.next_ticket += 1
        self.version += 1

    def close_ticket(self, ticket: int, bid: int, ask: int, time: int) -> None:
        slip = self.costs.slippage_points
        for index, t in enumerate(self.trades):
            if t.ticket == ticket:
                self._close(index, bid - slip if t.buy else ask + slip, time, "strategy")
                return

    def cancel_ticket(self, ticket: int) -> None:
        for index, o in enumerate(self.orders):
            if o.ticket == ticket:
                del self.orders[index]
                self.version += 1
                return

    def modify_ticket(self, ticket: int, sl: int, tp: int, bid: int, ask: int) -> None:
        """Set a trade's stop loss and/or take profit (0 leaves that side unchanged)."""
        for t in self.trades:
            if t.ticket == ticket:
                new_sl = sl or t.stop_loss
                new_tp = tp or t.take_profit
                new_sl, new_tp, ok = self._stops(t.buy, bid if t.buy else ask, new_sl, new_tp)
                if not ok:
                    self.rejected += 1
                    return
                t.stop_loss, t.take_profit = new_sl, new_tp
                self.version += 1
                return


def points(value: Decimal | None, digits: int) -> int:
    """A price Decimal on the instrument's grid → integer points (None → 0)."""
    if value is None:
        return 0
    return int(value.scaleb(digits))


def price_decimal(value: int, digits: int) -> Decimal | None:
    return Decimal(value).scaleb(-digits) if value else None
