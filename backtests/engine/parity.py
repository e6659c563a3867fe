"""The parity engine: replays bars through ``Framework.run`` with the live input building and the live
signal → intent translation (trading.services.execution.translate), against the simulated broker.

Works with any library implementing the ABI (it only calls ``get_framework().run``).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from backtests.engine.broker import ClosedTrade, SimBroker, points, price_decimal
from backtests.engine.gcpause import gc_paused
from backtests.engine.market import Costs, MarketData
from backtests.engine.parity_book import BookRows
from framework import (
    CRATES_DTYPE,
    AccountInfo,
    BidAsk,
    Framework,
    Runner,
    RunnerSlot,
    StrategySettings,
)
from framework.errors import error_for_code
from framework.pystrategy.registry import is_python_strategy
from framework.pystrategy.runner import PythonRunner
from trading.services.execution.inputs import BROKER_TZ
from trading.services.execution.translate import InstrumentSpec, Intent, PositionView, signals_to_intents

Progress = Callable[[int, int], None]
PROGRESS_EVERY = 20_000


@dataclass
class EngineResult:
    """What one engine run produced; arrays are per tested bar (at each bar's close)."""

    trades: Sequence[ClosedTrade]  # a list (parity engine) or a TradeTable (fast engine: tuples on access)
    time: np.ndarray  # int64 framework time of each tested bar's close
    balance: np.ndarray
    equity: np.ndarray
    in_market: np.ndarray  # bool: a trade was open after the bar's close
    initial_balance: float
    rejected: int = 0
    stopped_out: bool = False
    dropped: int = 0  # actions the strategy asked for that were not written (framework drop reasons)
    notes: list[str] = field(default_factory=list)


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


def _ints(values: np.ndarray, dtype: type) -> memoryview[int]:
    """Indexable like a list of ints, without a million int objects held for the whole run (memory and cache)."""
    return np.ascontiguousarray(values, dtype=dtype).data  # the array's own view (numpy's stubs: no __buffer__)


def _floats(values: np.ndarray) -> memoryview[float]:
    """A float64 array's memory, read and written in place as Python floats. Through bytes: ``cast`` refuses
    'd' to 'd', and ``.data`` is typed as a view of ints whatever the dtype."""
    if values.dtype != np.float64 or not values.flags.c_contiguous:
        raise ValueError(
            f"a C-contiguous float64 array is needed, was {values.dtype} (C-contiguous: {values.flags.c_contiguous})"
        )
    return values.data.cast("B").cast("d")


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
    account = _floats(runner.account)
    prices = _floats(runner.bid_ask)
    rate_mode = data.rate_mode
    fixed_rate = sim.rate(0 if rate_mode == 0 else 1)
    prices[4] = prices[5] = fixed_rate  # rate_mode 1 writes it every bar
    order_values = _floats(runner.orders.view(np.float64))
    item = CRATES_DTYPE.itemsize
    pack = _CRATES_LAYOUT.pack_into
    # per slot: index, its bars as bytes, the address before its first bar, closed_end, close_time, and the close
    # of another instrument's slot (None: this instrument's, priced at the forming bid)
    slot_state: list[tuple[int, memoryview[int], int, memoryview[int], memoryview[int], memoryview[float] | None]] = []
    for s in data.slots:
        if s.crates.dtype != CRATES_DTYPE or not s.crates.flags.c_contiguous or len(s.crates) < s.count + 1:
            raise ValueError("slot series must be C-contiguous CRATES arrays with a spare element")
        slot_state.append(
            (
                len(slot_state),
                s.crates.view(np.uint8).data,
                runner.address(s.crates) - s.window * item,  # + end * item: the window's first bar
                _ints(s.closed_end, np.int32),
                _ints(s.close_time, np.int64),
                None if s.same_instrument else _floats(np.ascontiguousarray(s.crates["close"])),
            )
        )
    saved: list[tuple[memoryview[int], int, bytes]] = []
    unpack = _CRATES_LAYOUT.unpack_from
    single = len(slot_state) == 1 and slot_state[0][5] is None
    _, raw0, base0, closed_end0, slot_close_time0, _ = slot_state[0]
    # our library through framework.Runner: run()'s steps inlined in the loop (a method frame per bar was a visible
    # share of one) and the forming bar written and restored by the library (asirikuy_run_strategy_forming: three
    # struct calls a bar less); a Python strategy's runner, a foreign library or several slots go through run()
    forming = _forming_call(runner) if single else None
    hot = forming is not None
    if forming is not None:
        call, call_args, time_and_count, window0, forming_in, forming_out = forming
    dropped = 0
    strategy_id, symbol = settings.strategy_id, data.symbol
    run, set_window = runner.run, runner.set_window
    book = BookRows(runner, sim, instance_id)
    close, spread, close_time = (
        _ints(data.close, np.int64),
        _ints(data.spread, np.int64),
        _ints(data.close_time, np.int64),
    )
    n = data.bar_count
    # the curves go straight into their arrays (8 + 8 + 1 bytes a bar), not into lists of Python floats
    balance_arr, equity_arr, in_market_arr = np.empty(n), np.empty(n), np.zeros(n, dtype=np.uint8)
    balance_out, equity_out, in_market = _floats(balance_arr), _floats(equity_arr), in_market_arr.data
    stopped_out = False
    k = 0
    next_progress = PROGRESS_EVERY if progress is not None else n + 1
    # Per version of the simulated broker (it changes only when a trade or order does), not per bar: whether
    # on_bar has anything to check (pending orders, or a trade with a stop or a target) and the open trades'
    # legs (side, units, open price, the row of their profit).
    version = -1
    legs: list[tuple[bool, float, int, int]] = []
    one_leg: tuple[bool, float, int, int] | None = None
    guarded = False
    last = data.last
    with gc_paused():
        for i in range(data.first, last + 1):
            if sim.version != version:  # before on_bar: whether it has anything to check
                guarded = bool(sim.orders) or any(t.stop_loss or t.take_profit for t in sim.trades)
            if guarded:
                sim.on_bar(i)
            bid = close[i]
            ask = bid + spread[i]
            now = close_time[i]
            bid_f, ask_f = bid / scale, ask / scale
            prices[0] = bid_f
            prices[1] = ask_f
            if rate_mode:
                prices[4] = prices[5] = sim.rate(bid)
            if sim.version != version:
                version = sim.version
                book.refresh(bid, ask)
                legs = book.legs()
                one_leg = legs[0] if len(legs) == 1 else None
                account[1] = sim.balance
                if hot:  # the open-order count changes with the book only
                    time_and_count[1] = book.open_count
            balance = sim.balance
            equity = balance
            # SimBroker.unrealized and .pl, expression for expression, in sim.trades order; each trade's profit also
            # goes into its order row (the strategy reads the rows as live)
            if one_leg is not None and not rate_mode:  # the usual book: one trade (unrealized: 0.0 + its P/L)
                buy, units, open_price, row = one_leg
                pl = (
                    (bid - open_price) * units / scale * fixed_rate
                    if buy
                    else ((open_price - ask) * units / scale * fixed_rate)
                )
                order_values[row] = pl
                equity = balance + (0.0 + pl)
            elif legs:
                rate_bid = rate_ask = fixed_rate
                if rate_mode:
                    rate_bid, rate_ask = sim.rate(bid), sim.rate(ask)
                total = 0.0
                for buy, units, open_price, row in legs:
                    pl = (
                        (bid - open_price) * units / scale * rate_bid
                        if buy
                        else ((open_price - ask) * units / scale * rate_ask)
                    )
                    order_values[row] = pl
                    total += pl
                equity = balance + total
            if equity <= 0.0:
                sim.close_all(bid, ask, now, "stop_out")
                stopped_out = True
            account[2] = equity
            if not stopped_out:
                if hot:  # one slot, this instrument's, c_runStrategy: Runner.run's steps inlined
                    end = closed_end0[i]
                    window0.value = base0 + end * item
                    forming_in[0] = bid_f  # the forming bar: open = high = low = close = bid, volume 0
                    forming_in[1] = slot_close_time0[end - 1]
                    time_and_count[0] = now
                    code = call(*call_args)
                    if code != 0:
                        raise error_for_code(
                            code, f"instance {instance_id}, strategy {strategy_id}, {symbol}, time {now}"
                        )
                    dropped += forming_out[0]
                    signalled = forming_out[1]
                elif single:  # one slot, this instrument's: the same steps without the loop over slots
                    end = closed_end0[i]
                    offset = end * item
                    original = unpack(raw0, offset)
                    pack(raw0, offset, bid_f, bid_f, bid_f, bid_f, 0.0, slot_close_time0[end - 1])
                    set_window(0, base0 + offset)
                    try:
                        signalled = run(now, book.open_count)
                    finally:
                        pack(raw0, offset, *original)
                else:
                    for slot, raw, base, closed_end, slot_close_time, other_close in slot_state:
                        end = closed_end[i]
                        offset = end * item
                        saved.append((raw, offset, raw[offset : offset + item].tobytes()))
                        price = bid_f if other_close is None else other_close[end - 1]
                        pack(raw, offset, price, price, price, price, 0.0, slot_close_time[end - 1])
                        set_window(slot, base + offset)
                    try:
                        signalled = run(now, book.open_count)
                    finally:
                        for raw, offset, kept in saved:
                            raw[offset : offset + item] = kept
                        saved.clear()
                if signalled:
                    translation = signals_to_intents(
                        runner.signals(),
                        positions=_positions(sim),
                        bid=Decimal(bid).scaleb(-data.digits),
                        ask=Decimal(ask).scaleb(-data.digits),
                        spec=spec,
                    )
                    _apply(sim, translation.intents, bid, ask, now)
            if i == last and sim.trades:
                sim.close_all(bid, ask, now, "end_of_test")
            balance = sim.balance
            balance_out[k] = balance
            if not sim.trades:
                equity_out[k] = balance
            else:
                in_market[k] = 1
                # the same trades at the same prices: the equity computed above
                equity_out[k] = equity if sim.version == version else balance + sim.unrealized(bid, ask)
            k += 1
            if k == next_progress:  # only reached when progress is set (next_progress is n + 1 otherwise)
                if progress is not None:
                    progress(k, n)
                next_progress += PROGRESS_EVERY
            if stopped_out:
                break
    if progress is not None:
        progress(k, n)
    return EngineResult(
        trades=sim.closed,
        time=data.close_time[data.first : data.first + k].astype(np.int64),
        balance=balance_arr[:k],
        equity=equity_arr[:k],
        in_market=in_market_arr[:k].view(bool),
        initial_balance=float(initial_balance),
        rejected=sim.rejected,
        stopped_out=stopped_out,
        dropped=runner.dropped + dropped,
    )


def _forming_call(
    runner: Runner | PythonRunner,
) -> tuple[Callable[..., int], tuple[Any, ...], memoryview[int], Any, memoryview[float], memoryview[int]] | None:
    """Our library's call that writes and restores the forming bar itself (asirikuy_run_strategy_forming), with
    its buffers: function, arguments, time and count, slot 0's window cell, forming in, forming out. None for a
    Python strategy's runner or a foreign library (no such call, or rows to clear before each call)."""
    if not isinstance(runner, Runner):
        return None
    hot = runner.hot_path()
    call, forming_in, forming_out = hot.forming_function, hot.forming_in, hot.forming_out
    if call is None or forming_in is None or forming_out is None or hot.clear:
        return None
    return call, hot.forming_args, hot.time_and_count, hot.windows[0], forming_in, forming_out


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


def _apply(sim: SimBroker, intents: list[Intent], bid: int, ask: int, now: int) -> None:
    digits = sim.data.digits
    up = sim.data.unit_precision
    for intent in intents:
        if intent.kind == "open":
            buy = intent.side == "buy"
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
            continue
        ticket = intent.target_ticket
        if ticket is None:  # translate.py names the ticket of every close, cancel and modify
            raise ValueError(f"a {intent.kind} intent without a target ticket (row {intent.row}, seq {intent.seq})")
        if intent.kind == "close":
            sim.close_ticket(ticket, bid, ask, now)
        elif intent.kind == "cancel":
            sim.cancel_ticket(ticket)
        else:
            sim.modify_ticket(ticket, points(intent.stop_loss, digits), points(intent.take_profit, digits), bid, ask)
