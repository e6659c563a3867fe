"""Pure bar rules of the paper broker, shared with the backtester's simulated broker.

Plain values in, plain values out: they work on ``Decimal`` prices (paper broker) and on integer points
(backtester) alike. Bars are bid prices; the ask side adds ``spread``.

- A pending order triggers on the bar when its level is reached: buy orders against the ask, sell
  orders against the bid. A level already passed at the bar's open fills at the open (a gap: worse for
  stops, better for limits), otherwise it fills at the level.
- A BUY trade closes at the bid, a SELL trade at the ask. A stop loss or take profit already passed at
  the open closes at the open; otherwise at the level. When both are inside one bar the stop loss
  wins (the pessimistic assumption).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal, TypeVar

P = TypeVar("P", int, float, Decimal)

ExitKind = Literal["stop_loss", "take_profit"]


def pending_fill_price(*, buy: bool, stop: bool, level: P, open_: P, high: P, low: P, spread: P) -> P | None:
    """Fill price of a pending order on this bar, or None when it does not trigger.

    ``stop`` is True for stop orders, False for limit orders.
    """
    if buy:
        o, h, lo = open_ + spread, high + spread, low + spread
    else:
        o, h, lo = open_, high, low
    if buy == stop:  # buy stop or sell limit: triggers when the price rises to the level
        if o >= level:
            return o
        return level if h >= level else None
    if o <= level:
        return o
    return level if lo <= level else None


def exit_price(
    *, buy: bool, stop_loss: P | None, take_profit: P | None, open_: P, high: P, low: P, spread: P
) -> tuple[P, ExitKind] | None:
    """Price and kind of a stop-loss / take-profit exit of an open trade on this bar, or None."""
    if buy:  # closes at the bid
        o, h, lo = open_, high, low
        sl_open = stop_loss is not None and o <= stop_loss
        tp_open = take_profit is not None and o >= take_profit
        sl_hit = stop_loss is not None and lo <= stop_loss
        tp_hit = take_profit is not None and h >= take_profit
    else:  # closes at the ask
        o, h, lo = open_ + spread, high + spread, low + spread
        sl_open = stop_loss is not None and o >= stop_loss
        tp_open = take_profit is not None and o <= take_profit
        sl_hit = stop_loss is not None and h >= stop_loss
        tp_hit = take_profit is not None and lo <= take_profit
    if sl_open:
        return o, "stop_loss"
    if tp_open:
        return o, "take_profit"
    # (a hit implies its level is set; the second test tells the type checker)
    if sl_hit and stop_loss is not None:
        return stop_loss, "stop_loss"
    if tp_hit and take_profit is not None:
        return take_profit, "take_profit"
    return None


def trailing_stop(*, buy: bool, stop_loss: P | None, distance: P, high: P, low: P, spread: P) -> P | None:
    """The stop a trailing distance moves to after this bar, or None when the stop stays where it is.

    A BUY trade's stop trails the bar's best bid (its high); a SELL trade's stop trails the best ask (low +
    spread). The stop only ever moves in the trade's favour.
    """
    if buy:
        candidate = high - distance
        return candidate if stop_loss is None or candidate > stop_loss else None
    candidate = low + spread + distance
    return candidate if stop_loss is None or candidate < stop_loss else None
