"""The fast engine's closed trades, kept as the C engine's rows and turned into ClosedTrade tuples on access.

A million-bar run closes tens of thousands of trades; building every tuple up front cost more than the C loop
(about 1.5 µs a trade, most of a run's time) and about 450 bytes a trade, for results that statistics read as
two columns and a stored run reads once. The table holds the rows (128 bytes a trade) and builds tuples in
chunks when iterated or indexed, so callers see the same sequence of ClosedTrade as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import overload

import numpy as np

from backtests.engine.broker import ClosedTrade
from backtests.engine.gcpause import gc_paused

_REASONS = ("strategy", "stop_loss", "take_profit", "end_of_test", "stop_out")
_ORDER_TYPES = ("market", "stop", "limit")
_SIDES = ("buy", "sell")
_NUMBERS = (
    "ticket",
    "units",
    "open_time",
    "close_time",
    "open_price",
    "close_price",
    "stop_loss",
    "take_profit",
    "pl",
    "commission",
    "swap",
    "profit",
)
CHUNK = 4096


def _tuples(rows: np.ndarray) -> list[ClosedTrade]:
    """ClosedTrade tuples from C rows, column by column (the codes index shared strings: no new ones)."""
    sides = [_SIDES[code] for code in rows["side"].tolist()]
    kinds = [_ORDER_TYPES[code] for code in rows["order_type"].tolist()]
    reasons = [_REASONS[code] for code in rows["reason"].tolist()]
    ticket, units, open_time, close_time, open_price, close_price, sl, tp, pl, commission, swap, profit = (
        rows[name].tolist() for name in _NUMBERS
    )
    # the cyclic collector paused: the collections thousands of new tuples trigger were most of the cost
    with gc_paused():
        return list(
            map(
                ClosedTrade._make,
                zip(
                    ticket,
                    sides,
                    kinds,
                    units,
                    open_time,
                    close_time,
                    open_price,
                    close_price,
                    sl,
                    tp,
                    pl,
                    commission,
                    swap,
                    profit,
                    reasons,
                    strict=True,
                ),
            )
        )


class TradeTable(Sequence[ClosedTrade]):
    """Closed trades in closing order, as rows of framework.backtest.BT_TRADE_DTYPE."""

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, index: int) -> ClosedTrade: ...

    @overload
    def __getitem__(self, index: slice) -> list[ClosedTrade]: ...

    def __getitem__(self, index: int | slice) -> ClosedTrade | list[ClosedTrade]:
        if isinstance(index, slice):
            return _tuples(self.rows[index])
        n = len(self.rows)
        if not -n <= index < n:
            raise IndexError(f"trade index {index} out of range ({n} trades)")
        return _tuples(self.rows[index : index + 1 or None])[0]

    def __iter__(self) -> Iterator[ClosedTrade]:
        for start in range(0, len(self.rows), CHUNK):
            yield from _tuples(self.rows[start : start + CHUNK])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TradeTable):
            return self.rows.tobytes() == other.rows.tobytes()
        if isinstance(other, Sequence):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable-looking sequence, like a list

    def profits_and_sides_by_close(self) -> tuple[list[float], list[str]]:
        """Net profits and sides ordered by (close time, ticket), without building the tuples."""
        order = np.lexsort((self.rows["ticket"], self.rows["close_time"]))
        profits = self.rows["profit"][order].tolist()
        sides = [_SIDES[code] for code in self.rows["side"][order].tolist()]
        return profits, sides
