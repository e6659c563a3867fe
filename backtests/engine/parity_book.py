"""The parity engine's order rows: the simulated broker's book laid out as Framework.run lays out the live one."""

from __future__ import annotations

import struct
from operator import itemgetter

import numpy as np

from backtests.engine.broker import ClosedTrade, SimBroker, SimOrder, SimTrade
from framework import FrameworkInputError, Runner
from framework.pystrategy.runner import PythonRunner
from framework.types import ORDER_INFO_DTYPE


def _open_items(sim: SimBroker) -> list[tuple[int, SimTrade | SimOrder]]:
    """(open time, item) of the open trades (newest first) then the pending orders (newest first), as
    trading.services.execution.book lists them, then stable by open time, newest first, as Framework.run."""
    if not sim.orders and len(sim.trades) < 2:  # the usual book: nothing to order
        return [(t.open_time, t) for t in sim.trades]
    items: list[tuple[int, SimTrade | SimOrder]] = [
        (t.open_time, t) for t in sorted(sim.trades, key=lambda t: (t.open_time, t.ticket), reverse=True)
    ]
    items += [(o.created, o) for o in sorted(sim.orders, key=lambda o: (o.created, o.ticket), reverse=True)]
    items.sort(key=itemgetter(0), reverse=True)  # stable: as sorted(key=-open_time)
    return items


_ORDER_FIELDS = len(ORDER_INFO_DTYPE.names or ())
_PROFIT = (ORDER_INFO_DTYPE.names or ()).index("profit")
_ROW = struct.Struct(f"<{_ORDER_FIELDS}d")  # one ORDER_INFO_DTYPE row
# The packers below write OrderInfo.as_row's values in this order (tests/backtests/test_backtest_parity_rows.py
# compares them with OrderInfo.as_row); a changed layout stops here instead of feeding the strategy shifted rows.
_ROW_FIELDS = (
    "ticket",
    "instanceId",
    "type",
    "openTime",
    "closeTime",
    "stopLoss",
    "takeProfit",
    "expiriation",
    "openPrice",
    "closePrice",
    "lots",
    "profit",
    "commission",
    "swap",
    "isOpen",
)
if ORDER_INFO_DTYPE.names != _ROW_FIELDS:
    raise RuntimeError(f"ORDER_INFO_DTYPE is {ORDER_INFO_DTYPE.names}, the parity engine packs {_ROW_FIELDS}")


def _trade_row(t: SimTrade, instance_id: int, scale: float, cs: float, profit: float) -> bytes:
    """An open trade as OrderInfo(order_type=BUY/SELL, is_open=True, ...).as_row(), packed."""
    return _ROW.pack(
        float(t.ticket),
        float(instance_id),
        0.0 if t.buy else 1.0,
        float(t.open_time),
        0.0,
        t.stop_loss / scale,
        t.take_profit / scale,
        0.0,
        t.open_price / scale,
        0.0,
        t.units / cs,
        float(profit),
        0.0,
        0.0,
        1.0,
    )


def _order_row(o: SimOrder, instance_id: int, scale: float, cs: float) -> bytes:
    """A pending order as OrderInfo(order_type=BUY/SELL LIMIT/STOP, expiration, is_open=True).as_row(), packed."""
    kind = (4.0 if o.stop else 2.0) + (0.0 if o.buy else 1.0)
    return _ROW.pack(
        float(o.ticket),
        float(instance_id),
        kind,
        float(o.created),
        0.0,
        o.stop_loss / scale,
        o.take_profit / scale,
        float(o.expires),
        o.price / scale,
        0.0,
        o.units / cs,
        0.0,
        0.0,
        0.0,
        1.0,
    )


def _closed_row(t: ClosedTrade, instance_id: int, scale: float, cs: float) -> bytes:
    """A closed trade as OrderInfo(close_time, close_price, profit, swap, commission, is_open=False).as_row()."""
    return _ROW.pack(
        float(t.ticket),
        float(instance_id),
        0.0 if t.side == "buy" else 1.0,
        float(t.open_time),
        float(t.close_time),
        t.stop_loss / scale,
        t.take_profit / scale,
        0.0,
        t.open_price / scale,
        t.close_price / scale,
        t.units / cs,
        float(t.profit),
        float(t.commission),
        float(t.swap),
        0.0,
    )


class BookRows:
    """The runner's order rows as Framework.run lays out ``_book``: open orders (newest first), then the most
    recent closed trades up to the capacity, by open time. Rebuilt only when the simulated broker changed
    (SimBroker.version); the open trades' profit is refreshed every bar through ``open_trades``.

    Rows are written as packed bytes (the values of ``OrderInfo.as_row``, without building OrderInfo): a
    closed trade's row is packed once, when it closes, an open one once per ticket and stops, and a rebuild
    joins them instead of converting nested lists through numpy (it used to cost more than a bar).
    """

    def __init__(self, runner: Runner | PythonRunner, sim: SimBroker, instance_id: int) -> None:
        self.raw = runner.orders.view(np.uint8).data  # the rows' bytes (numpy's stubs give arrays no __buffer__)
        self.zeros = memoryview(bytes(len(self.raw)))
        self.capacity = len(runner.orders)
        self.sim = sim
        self.instance_id = instance_id
        self.closed: list[tuple[int, bytes]] = []  # (open time, packed row), most recently closed first
        self.closed_seen = 0
        self.blocks: dict[int, bytes] = {}  # room for closed rows -> their packed rows, sorted
        self.version = -1
        self.open_count = 0
        self.open_trades: list[tuple[int, SimTrade]] = []  # (index of the profit value, trade)
        self.open_rows: dict[tuple[int, int, int], bytes] = {}  # (ticket, stop loss, take profit) -> packed row

    def refresh(self, bid: int, ask: int) -> None:
        sim = self.sim
        if sim.version == self.version:
            return
        self.version = sim.version
        capacity = self.capacity
        if len(sim.closed) != self.closed_seen:
            new = [
                (t.open_time, _closed_row(t, self.instance_id, sim.scale, sim.cs))
                for t in sim.closed[self.closed_seen :][-capacity:]
            ]
            self.closed = (new[::-1] + self.closed)[:capacity]
            self.closed_seen = len(sim.closed)
            self.blocks.clear()
        opened = _open_items(sim)
        n_open = len(opened)
        if n_open > capacity:
            raise FrameworkInputError(f"{n_open} open orders exceed ORDERINFO_ARRAY_SIZE={capacity}")
        room = capacity - n_open
        block = self.blocks.get(room)
        if block is None:
            kept = sorted(self.closed[:room], key=itemgetter(0), reverse=True)  # stable, as Framework.run
            block = self.blocks[room] = b"".join(row for _, row in kept)
        packed = b"".join([*(self._open_row(item, bid, ask) for _, item in opened), block])
        raw = self.raw
        raw[: len(packed)] = packed
        raw[len(packed) :] = self.zeros[len(packed) :]
        by_ticket = {t.ticket: t for t in sim.trades}
        self.open_count = n_open
        self.open_trades = [
            (j * _ORDER_FIELDS + _PROFIT, by_ticket[item.ticket])
            for j, (_, item) in enumerate(opened)
            if item.ticket in by_ticket
        ]

    def legs(self) -> list[tuple[bool, float, int, int]]:
        """(buy, units, open price, index of its profit value in the rows) of each open trade, in the simulated
        broker's order (the order SimBroker.unrealized sums them in)."""
        row_of = {t.ticket: index for index, t in self.open_trades}
        return [(t.buy, t.units, t.open_price, row_of[t.ticket]) for t in self.sim.trades]

    def _open_row(self, item: SimTrade | SimOrder, bid: int, ask: int) -> bytes:
        """The packed row of an open trade or pending order, kept while its stops are unchanged.

        A trade's profit in the kept row is stale, but run_parity writes every open trade's profit at every
        bar (``open_trades``) right after the refresh, before the strategy reads the rows.
        """
        key = (item.ticket, item.stop_loss, item.take_profit)
        row = self.open_rows.get(key)
        if row is None:
            if len(self.open_rows) > 4 * self.capacity:
                self.open_rows.clear()
            sim = self.sim
            if isinstance(item, SimOrder):
                row = _order_row(item, self.instance_id, sim.scale, sim.cs)
            else:
                row = _trade_row(
                    item,
                    self.instance_id,
                    sim.scale,
                    sim.cs,
                    sim.pl(item.buy, item.units, item.open_price, bid if item.buy else ask),
                )
            self.open_rows[key] = row
        return row
