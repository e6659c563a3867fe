"""The parity engine: replays bars through ``Framework.run`` with the live input building and the live
signal → intent translation (trading.services.execution.translate), against the simulated broker.

Works with any library implementing the ABI (it only calls ``get_framework().run``).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter

import numpy as np

from backtests.engine.broker import ClosedTrade, SimBroker, SimOrder, SimTrade, points, price_decimal
from backtests.engine.gcpause import gc_paused
from backtests.engine.market import Costs, MarketData
from framework import (
    CRATES_DTYPE,
    AccountInfo,
    BidAsk,
    Framework,
    FrameworkInputError,
    Runner,
    RunnerSlot,
    StrategySettings,
)
from framework.pystrategy.registry import is_python_strategy
from framework.pystrategy.runner import PythonRunner
from framework.types import ORDER_INFO_DTYPE
from trading.services.execution.inputs import BROKER_TZ
from trading.services.execution.translate import InstrumentSpec, PositionView, signals_to_intents

Progress = Callable[[int, int], None]
PROGRESS_EVERY = 20_000


@dataclass
class EngineResult:
    """What one engine run produced; arrays are per tested bar (at each bar's close)."""

    trades: list[ClosedTrade]
    time: np.ndarray  # int64 framework time of each tested bar's close
    balance: np.ndarray
    equity: np.ndarray
    in_market: np.ndarray  # bool: a trade was open after the bar's close
    initial_balance: float
    rejected: int = 0
    stopped_out: bool = False
    dropped: int = 0  # actions the strategy asked for that were not written (framework drop reasons)
    notes: list[str] = field(default_factory=list)


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


def _positions(sim: SimBroker) -> list[PositionView]:
    """The same open trades and pending orders, in the same order, as translate.py sees them."""
    digits, up = sim.data.digits, sim.data.unit_precision
    positions: list[PositionView] = []
    for t in sorted(sim.trades, key=lambda t: (t.open_time, t.ticket), reverse=True):
        positions.append(
            PositionView(
                ticket=t.ticket,
                side="buy" if t.buy else "sell",
                units=Decimal(t.units_ticks).scaleb(-up),
                open_price=Decimal(t.open_price).scaleb(-digits),
                stop_loss=price_decimal(t.stop_loss, digits),
                take_profit=price_decimal(t.take_profit, digits),
            )
        )
    for o in sorted(sim.orders, key=lambda o: (o.created, o.ticket), reverse=True):
        positions.append(
            PositionView(
                ticket=o.ticket,
                side="buy" if o.buy else "sell",
                units=Decimal(o.units_ticks).scaleb(-up),
                open_price=Decimal(o.price).scaleb(-digits),
                stop_loss=price_decimal(o.stop_loss, digits),
                take_profit=price_decimal(o.take_profit, digits),
                pending_type="stop" if o.stop else "limit",
            )
        )
    return positions


_CRATES_LAYOUT = struct.Struct("<5di4x")  # CRATES_DTYPE: open, high, low, close, volume, time (int32), padding
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


class _BookRows:
    """The runner's order rows as Framework.run lays out ``_book``: open orders (newest first), then the most
    recent closed trades up to the capacity, by open time. Rebuilt only when the simulated broker changed
    (SimBroker.version); the open trades' profit is refreshed every bar through ``open_trades``.

    Rows are written as packed bytes (the values of ``OrderInfo.as_row``, without building OrderInfo): a
    closed trade's row is packed once, when it closes, an open one once per ticket and stops, and a rebuild
    joins them instead of converting nested lists through numpy (it used to cost more than a bar).
    """

    def __init__(self, runner: Runner, sim: SimBroker, instance_id: int) -> None:
        self.raw = memoryview(runner.orders.view(np.uint8))
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


def _ints(values: np.ndarray, dtype: type) -> memoryview:
    """Indexable like a list of ints, without a million int objects held for the whole run (memory and cache)."""
    return memoryview(np.ascontiguousarray(values, dtype=dtype))


def run_parity(
    *,
    data: MarketData,
    settings: StrategySettings,
    costs: Costs,
    initial_balance: float,
    account_currency: str,
    framework: Framework,
    progress: Progress | None = None,
) -> EngineResult:
    """Run the strategy at the close of every tested bar and simulate its orders.

    Every call goes through c_runStrategy (``framework.Runner``: the buffers of Framework.run kept between bars
    and written in place); each rates slot points at a window inside the slot's series, with the forming bar
    written into the element after the window and restored after the call.
    """
    instance_id = settings.instance_id
    sim = SimBroker(data, costs, initial_balance)
    spec = InstrumentSpec(
        digits=data.digits,
        contract_size=Decimal(data.contract_size_e4).scaleb(-4),
        unit_precision=data.unit_precision,
        min_units=Decimal(data.min_units_ticks).scaleb(-data.unit_precision),
    )
    scale = data.scale
    minimum_stop = costs.min_stop_points / scale
    runner = _runner(
        framework,
        data,
        settings=settings,
        symbol=data.symbol,
        account_currency=account_currency,
        account=AccountInfo(
            account_number=1,
            balance=sim.balance,
            equity=sim.balance,
            margin=0.0,
            leverage=100.0,
            contract_size=data.contract_size,
            minimum_stop=minimum_stop,
            stopout_percent=50.0,
        ),
        prices=BidAsk(bid=1.0, ask=1.0),
    )
    account = memoryview(runner.account)
    prices = memoryview(runner.bid_ask)
    rate_mode = data.rate_mode
    prices[4] = prices[5] = sim.rate(0 if rate_mode == 0 else 1)  # fixed rate; rate_mode 1 writes it every bar
    order_values = memoryview(runner.orders.view(np.float64))
    item = CRATES_DTYPE.itemsize
    pack = _CRATES_LAYOUT.pack_into
    slot_state = []
    for s in data.slots:
        if s.crates.dtype != CRATES_DTYPE or not s.crates.flags.c_contiguous or len(s.crates) < s.count + 1:
            raise ValueError("slot series must be C-contiguous CRATES arrays with a spare element")
        slot_state.append(
            (
                len(slot_state),
                memoryview(s.crates.view(np.uint8)),
                runner.address(s.crates),
                s.window,
                _ints(s.closed_end, np.int32),
                _ints(s.close_time, np.int64),
                None if s.same_instrument else s.crates["close"].tolist(),
                [0, b""],
            )
        )
    run, set_window = runner.run, runner.set_window
    book = _BookRows(runner, sim, instance_id)
    close, spread, close_time = (
        _ints(data.close, np.int64),
        _ints(data.spread, np.int64),
        _ints(data.close_time, np.int64),
    )
    balance_out: list[float] = []
    equity_out: list[float] = []
    in_market: list[bool] = []
    stopped_out = False
    n = data.bar_count
    k = 0
    with gc_paused():
        for i in range(data.first, data.last + 1):
            if sim.trades or sim.orders:
                sim.on_bar(i)
            bid = close[i]
            ask = bid + spread[i]
            now = close_time[i]
            bid_f, ask_f = bid / scale, ask / scale
            prices[0] = bid_f
            prices[1] = ask_f
            if rate_mode:
                prices[4] = prices[5] = sim.rate(bid)
            equity = sim.balance + sim.unrealized(bid, ask) if sim.trades else sim.balance
            if equity <= 0.0:
                sim.close_all(bid, ask, now, "stop_out")
                stopped_out = True
            account[1] = sim.balance
            account[2] = equity
            version = sim.version
            if version != book.version:
                book.refresh(bid, ask)
            for index, t in book.open_trades:
                order_values[index] = sim.pl(t.buy, t.units, t.open_price, bid if t.buy else ask)
            if not stopped_out:
                for slot, raw, base, window, closed_end, slot_close_time, other_close, saved in slot_state:
                    end = closed_end[i]
                    offset = end * item
                    saved[0] = offset
                    saved[1] = raw[offset : offset + item].tobytes()
                    price = bid_f if other_close is None else other_close[end - 1]
                    pack(raw, offset, price, price, price, price, 0.0, slot_close_time[end - 1])
                    set_window(slot, base + (end - window) * item)
                try:
                    signalled = run(now, book.open_count)
                finally:
                    for _, raw, _, _, _, _, _, saved in slot_state:
                        raw[saved[0] : saved[0] + item] = saved[1]
                if signalled:
                    translation = signals_to_intents(
                        runner.signals(),
                        positions=_positions(sim),
                        bid=Decimal(bid).scaleb(-data.digits),
                        ask=Decimal(ask).scaleb(-data.digits),
                        spec=spec,
                    )
                    _apply(sim, translation.intents, bid, ask, now)
            if i == data.last and sim.trades:
                sim.close_all(bid, ask, now, "end_of_test")
            balance = sim.balance
            balance_out.append(balance)
            if not sim.trades:
                equity_out.append(balance)
            elif sim.version == version:  # the same trades at the same prices: the equity computed above
                equity_out.append(equity)
            else:
                equity_out.append(balance + sim.unrealized(bid, ask))
            in_market.append(bool(sim.trades))
            k += 1
            if progress is not None and k % PROGRESS_EVERY == 0:
                progress(k, n)
            if stopped_out:
                break
    if progress is not None:
        progress(k, n)
    return EngineResult(
        trades=sim.closed,
        time=data.close_time[data.first : data.first + k].astype(np.int64),
        balance=np.array(balance_out),
        equity=np.array(equity_out),
        in_market=np.array(in_market, dtype=bool),
        initial_balance=float(initial_balance),
        rejected=sim.rejected,
        stopped_out=stopped_out,
        dropped=runner.dropped,
    )


def _runner(
    framework: Framework,
    data: MarketData,
    *,
    settings: StrategySettings,
    symbol: str,
    account_currency: str,
    account: AccountInfo,
    prices: BidAsk,
) -> Runner | PythonRunner:
    """c_runStrategy through framework.Runner, or a Python strategy through its twin: the same buffers."""
    slots = [
        RunnerSlot(
            s.required_timeframe or s.timeframe,
            s.total_bars_required or s.window,
            s.timeframe,
            s.window + 1,
            s.point,
            s.digits,
        )
        for s in data.slots
    ]
    if is_python_strategy(settings.strategy_id):
        return PythonRunner(
            settings=settings,
            symbol=symbol,
            account=account,
            prices=prices,
            slots=slots,
            series=[s.crates for s in data.slots],
            counts=[s.count for s in data.slots],
        )
    framework.ensure_instance(settings.instance_id, is_testing=True)
    return Runner(
        framework,
        settings=settings,
        symbol=symbol,
        account_currency=account_currency,
        broker_name=BROKER_TZ,
        ref_broker_name=str(data.extra.get("ref_broker_name", BROKER_TZ)),  # a foreign strategy's reference clock
        account=account,
        prices=prices,
        slots=slots,
    )


def _apply(sim: SimBroker, intents: list, bid: int, ask: int, now: int) -> None:
    digits = sim.data.digits
    up = sim.data.unit_precision
    for intent in intents:
        buy = intent.side == "buy"
        if intent.kind == "close":
            sim.close_ticket(intent.target_ticket, bid, ask, now)
        elif intent.kind == "cancel":
            sim.cancel_ticket(intent.target_ticket)
        elif intent.kind == "modify":
            sim.modify_ticket(
                intent.target_ticket, points(intent.stop_loss, digits), points(intent.take_profit, digits), bid, ask
            )
        else:
            ticks = int(intent.units.scaleb(up))
            sl, tp = points(intent.stop_loss, digits), points(intent.take_profit, digits)
            if intent.order_type == "market":
                sim.open_market(buy, ticks, sl, tp, bid, ask, now)
            else:
                sim.open_pending(
                    buy,
                    intent.order_type == "stop",
                    ticks,
                    points(intent.price, digits),
                    sl,
                    tp,
                    intent.expires_at,
                    now,
                )
