"""One bar of the paper broker, as a pure function over plain data.

The caller (the paper venue) reads the resting orders and open trades of one instrument, asks
``bar_step`` what the bar does to them, and writes the answer. Order of events on a bar:
1. resting orders past their expiry are cancelled (GTD);
2. the others trigger when the bar reaches their level (``rules.pending_fill_price``);
3. stop losses and take profits of trades opened before the bar close them (``rules.exit_price``);
   a trade opened by step 2 on this bar is checked from the next bar on;
4. a trade that did not close moves its trailing stop (``rules.trailing_stop``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from brokers.paper.rules import ExitKind, exit_price, pending_fill_price, trailing_stop


@dataclass(frozen=True)
class SimBar:
    """One bar in prices: bid OHLC and the spread that makes the ask."""

    time: datetime  # open time
    close_time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    spread: Decimal


@dataclass(frozen=True)
class RestingOrder:
    """A pending entry order; ``key`` is the caller's id for it."""

    key: int
    buy: bool
    stop: bool  # stop order (else limit)
    price: Decimal
    expires_at: datetime | None = None


@dataclass(frozen=True)
class OpenTrade:
    """An open trade; ``key`` is the caller's id for it."""

    key: int
    buy: bool
    open_time: datetime
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    trailing_distance: Decimal | None = None


@dataclass(frozen=True)
class TradeExit:
    key: int
    price: Decimal
    kind: ExitKind
    trailing: bool  # the stop that was hit was a trailing stop


@dataclass
class BarOutcome:
    """What one bar did, in the order it happened."""

    expired: list[int] = field(default_factory=list)
    triggered: list[tuple[int, Decimal]] = field(default_factory=list)  # (order key, fill price)
    exits: list[TradeExit] = field(default_factory=list)
    trailed: list[tuple[int, Decimal]] = field(default_factory=list)  # (trade key, new stop loss)


def orders_step(bar: SimBar, orders: Iterable[RestingOrder]) -> BarOutcome:
    """Steps 1-2: expiry and triggers of resting orders (in the order given)."""
    outcome = BarOutcome()
    for order in orders:
        if order.expires_at is not None and order.expires_at <= bar.time:
            outcome.expired.append(order.key)
            continue
        price = pending_fill_price(
            buy=order.buy,
            stop=order.stop,
            level=order.price,
            open_=bar.open,
            high=bar.high,
            low=bar.low,
            spread=bar.spread,
        )
        if price is not None:
            outcome.triggered.append((order.key, price))
    return outcome


def trades_step(bar: SimBar, trades: Iterable[OpenTrade], outcome: BarOutcome | None = None) -> BarOutcome:
    """Steps 3-4: exits, else trailing stops, of trades opened at or before the bar's open (in the order given)."""
    outcome = outcome if outcome is not None else BarOutcome()
    for trade in trades:
        if trade.open_time > bar.time:
            continue
        hit = exit_price(
            buy=trade.buy,
            stop_loss=trade.stop_loss,
            take_profit=trade.take_profit,
            open_=bar.open,
            high=bar.high,
            low=bar.low,
            spread=bar.spread,
        )
        if hit is not None:
            price, kind = hit
            outcome.exits.append(
                TradeExit(trade.key, price, kind, kind == "stop_loss" and bool(trade.trailing_distance))
            )
            continue
        if trade.trailing_distance:
            moved = trailing_stop(
                buy=trade.buy,
                stop_loss=trade.stop_loss,
                distance=trade.trailing_distance,
                high=bar.high,
                low=bar.low,
                spread=bar.spread,
            )
            if moved is not None:
                outcome.trailed.append((trade.key, moved))
    return outcome
