"""Pairing live trades with replayed ones, and the per-pair differences of a drift report (pure functions).

Rules (README "Drift report"):
* Two trades are the same trade when they have the same side and open times at most ``tolerance`` apart.
  Live trades are taken in open-time order; each takes the unpaired replayed trade of its side with the
  smallest time offset (then the nearest open price, then the lowest ticket).
* Slippage is signed so that positive means live filled worse than the replay: a buy entry paid more, a sell
  entry got less; a buy exit got less, a sell exit paid more. In points of the instrument, and in the account
  currency = points x live units / 10^digits x quote->account rate.
* The P/L difference (live - replay) is only computed when both closed inside the period; a live trade still
  open (or closed after the period) is compared on its entry only, as the replay closes everything at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

MONEY = Decimal("0.000001")


@dataclass(frozen=True)
class TradeView:
    """One side of a comparison, in the platform's units: Decimal prices and money, UTC times."""

    ref: int  # live Trade id or replay ticket
    side: str
    units: Decimal
    open_time: datetime
    open_price: Decimal
    close_time: datetime | None
    close_price: Decimal | None
    profit: Decimal | None
    close_reason: str


@dataclass(frozen=True)
class Pair:
    live: TradeView | None
    backtest: TradeView | None

    @property
    def first(self) -> TradeView:
        """The live trade, else the replayed one: every pair holds at least one of them."""
        trade = self.live or self.backtest
        assert trade is not None, "a pair of no trades"
        return trade

    @property
    def open_time(self) -> datetime:
        return self.first.open_time


@dataclass(frozen=True)
class Difference:
    open_offset_seconds: int | None = None
    entry_slippage_points: int | None = None
    entry_slippage: Decimal | None = None
    exit_slippage_points: int | None = None
    exit_slippage: Decimal | None = None
    profit_difference: Decimal | None = None
    close_reason_differs: bool = False


def trades_match(live: list[TradeView], backtest: list[TradeView], *, tolerance: timedelta) -> list[Pair]:
    """Pair live and replayed trades (rule in the module docstring); unpaired ones get a pair of their own."""
    free = sorted(backtest, key=lambda t: (t.open_time, t.ref))
    pairs: list[Pair] = []
    for trade in sorted(live, key=lambda t: (t.open_time, t.ref)):
        candidates = [b for b in free if b.side == trade.side and abs(b.open_time - trade.open_time) <= tolerance]
        if not candidates:
            pairs.append(Pair(trade, None))
            continue
        best = min(
            candidates, key=lambda b: (abs(b.open_time - trade.open_time), abs(b.open_price - trade.open_price), b.ref)
        )
        free.remove(best)
        pairs.append(Pair(trade, best))
    pairs.extend(Pair(None, b) for b in free)
    return sorted(pairs, key=lambda p: (p.open_time, p.live is None, p.first.ref))


def _adverse(side: str, live: Decimal, backtest: Decimal, *, entry: bool) -> Decimal:
    """live - backtest, signed so that positive is worse for the live account."""
    worse_when_higher = (side == "buy") == entry
    return live - backtest if worse_when_higher else backtest - live


def pair_difference(pair: Pair, *, digits: int, rate: Decimal, period_end: datetime) -> Difference:
    """Offsets, slippage and P/L difference of one pair (nothing for an unpaired trade)."""
    live, bt = pair.live, pair.backtest
    if live is None or bt is None:
        return Difference()
    scale = Decimal(10) ** digits

    def money(points: int) -> Decimal:
        return (Decimal(points) * live.units / scale * rate).quantize(MONEY)

    entry_points = int(_adverse(live.side, live.open_price, bt.open_price, entry=True) * scale)
    live_closed = live.close_time is not None and live.close_time <= period_end and live.close_price is not None
    exit_points = None
    if live_closed and live.close_price is not None and bt.close_price is not None:
        exit_points = int(_adverse(live.side, live.close_price, bt.close_price, entry=False) * scale)
    profit = None
    if live_closed and live.profit is not None and bt.profit is not None:
        profit = (live.profit - bt.profit).quantize(MONEY)
    return Difference(
        open_offset_seconds=int((live.open_time - bt.open_time).total_seconds()),
        entry_slippage_points=entry_points,
        entry_slippage=money(entry_points),
        exit_slippage_points=exit_points,
        exit_slippage=None if exit_points is None else money(exit_points),
        profit_difference=profit,
        close_reason_differs=live_closed and live.close_reason != bt.close_reason,
    )
