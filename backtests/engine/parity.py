"""The parity engine: replays bars through ``Framework.run`` with the live input building and the live
signal → intent translation (trading.services.execution.translate), against the simulated broker.

Works with any library implementing the ABI (it only calls ``get_framework().run``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from backtests.engine.broker import ClosedTrade, SimBroker, points, price_decimal
from backtests.engine.market import Costs, MarketData
from framework import AccountInfo, BidAsk, Framework, OrderInfo, OrderType, RatesSlot, StrategySettings
from trading.services.execution.inputs import BROKER_TZ, fill_slot_window
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
    notes: list[str] = field(default_factory=list)


def _book(sim: SimBroker, instance_id: int, bid: int, ask: int, capacity: int,
          closed_cache: list[OrderInfo]) -> list[OrderInfo]:
    """The instance's orders as trading.services.execution.book builds them: open trades (newest first),
    pending orders (newest first), then the most recent closed trades up to the capacity."""
    scale, cs = sim.scale, sim.cs
    infos: list[OrderInfo] = []
    for t in sorted(sim.trades, key=lambda t: (t.open_time, t.ticket), reverse=True):
        infos.append(OrderInfo(
            ticket=t.ticket, instance_id=instance_id, order_type=OrderType.BUY if t.buy else OrderType.SELL,
            open_time=t.open_time, stop_loss=t.stop_loss / scale, take_profit=t.take_profit / scale,
            open_price=t.open_price / scale, lots=t.units / cs,
            profit=sim.pl(t.buy, t.units, t.open_price, bid if t.buy else ask), is_open=True,
        ))
    for o in sorted(sim.orders, key=lambda o: (o.created, o.ticket), reverse=True):
        kind = OrderType.BUYSTOP if o.stop else OrderType.BUYLIMIT
        infos.append(OrderInfo(
            ticket=o.ticket, instance_id=instance_id, order_type=OrderType(kind + (0 if o.buy else 1)),
            open_time=o.created, stop_loss=o.stop_loss / scale, take_profit=o.take_profit / scale,
            expiration=o.expires, open_price=o.price / scale, lots=o.units / cs, is_open=True,
        ))
    room = capacity - len(infos)
    if room > 0:
        infos.extend(closed_cache[:room])
    return infos


def _positions(sim: SimBroker) -> list[PositionView]:
    """The same open trades and pending orders, in the same order, as translate.py sees them."""
    digits, up = sim.data.digits, sim.data.unit_precision
    positions: list[PositionView] = []
    for t in sorted(sim.trades, key=lambda t: (t.open_time, t.ticket), reverse=True):
        positions.append(PositionView(
            ticket=t.ticket, side="buy" if t.buy else "sell", units=Decimal(t.units_ticks).scaleb(-up),
            open_price=Decimal(t.open_price).scaleb(-digits), stop_loss=price_decimal(t.stop_loss, digits),
            take_profit=price_decimal(t.take_profit, digits),
        ))
    for o in sorted(sim.orders, key=lambda o: (o.created, o.ticket), reverse=True):
        positions.append(PositionView(
            ticket=o.ticket, side="buy" if o.buy else "sell", units=Decimal(o.units_ticks).scaleb(-up),
            open_price=Decimal(o.price).scaleb(-digits), stop_loss=price_decimal(o.stop_loss, digits),
            take_profit=price_decimal(o.take_profit, digits), pending_type="stop" if o.stop else "limit",
        ))
    return positions


def _closed_info(t: ClosedTrade, instance_id: int, scale: float, cs: float) -> OrderInfo:
    return OrderInfo(
        ticket=t.ticket, instance_id=instance_id, order_type=OrderType.BUY if t.side == "buy" else OrderType.SELL,
        open_time=t.open_time, close_time=t.close_time, stop_loss=t.stop_loss / scale,
        take_profit=t.take_profit / scale, open_price=t.open_price / scale, close_price=t.close_price / scale,
        lots=t.units / cs, profit=t.profit, swap=t.swap, commission=t.commission, is_open=False,
    )


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
    """Run the strategy at the close of every tested bar and simulate its orders."""
    instance_id = settings.instance_id
    framework.ensure_instance(instance_id, is_testing=True)
    sim = SimBroker(data, costs, initial_balance)
    spec = InstrumentSpec(digits=data.digits, contract_size=Decimal(data.contract_size_e4).scaleb(-4),
                          unit_precision=data.unit_precision,
                          min_units=Decimal(data.min_units_ticks).scaleb(-data.unit_precision))
    scale = data.scale
    windows = [np.zeros(s.window + 1, dtype=s.crates.dtype) for s in data.slots]
    slots = [RatesSlot(rates=w, required_timeframe=s.timeframe, total_bars_required=s.window,
                       actual_timeframe=s.timeframe, point=s.point, digits=s.digits)
             for w, s in zip(windows, data.slots, strict=True)]
    n = data.bar_count
    time_out = np.zeros(n, dtype=np.int64)
    balance_out = np.zeros(n)
    equity_out = np.zeros(n)
    in_market = np.zeros(n, dtype=bool)
    capacity = settings.order_info_array_size
    minimum_stop = costs.min_stop_points / scale
    closed_cache: list[OrderInfo] = []
    closed_seen = 0
    account: AccountInfo | None = None
    prices: BidAsk | None = None
    infos: list[OrderInfo] = []
    book_version = -1
    stopped_out = False
    k = 0
    for i in range(data.first, data.last + 1):
        sim.on_bar(i)
        bid = int(data.close[i])
        ask = bid + int(data.spread[i])
        now = int(data.close_time[i])
        bid_f, ask_f = bid / scale, ask / scale
        for window, slot_data in zip(windows, data.slots, strict=True):
            fill_slot_window(window, slot_data.crates, int(slot_data.closed_end[i]), slot_data.window,
                             bid_f if slot_data.same_instrument else None, slot_data.close_time)
        rate = sim.rate(bid)
        if prices is None or prices.bid != bid_f or prices.ask != ask_f or prices.quote_conversion_bid != rate:
            prices = BidAsk(bid=bid_f, ask=ask_f, quote_conversion_bid=rate, quote_conversion_ask=rate)
        unrealized = sim.unrealized(bid, ask)
        equity = sim.balance + unrealized
        if equity <= 0.0:
            sim.close_all(bid, ask, now, "stop_out")
            stopped_out = True
        if account is None or account.balance != sim.balance or account.equity != equity:
            account = AccountInfo(account_number=1, balance=sim.balance, equity=equity, margin=0.0, leverage=100.0,
                                  contract_size=data.contract_size, minimum_stop=minimum_stop, stopout_percent=50.0)
        if len(sim.closed) != closed_seen:
            for t in sim.closed[closed_seen:]:
                closed_cache.insert(0, _closed_info(t, instance_id, scale, data.contract_size))
            del closed_cache[capacity:]
            closed_seen = len(sim.closed)
        if sim.trades or sim.version != book_version:
            infos = _book(sim, instance_id, bid, ask, capacity, closed_cache)
            book_version = sim.version
        if not stopped_out:
            signals = framework.run(
                instance_id=instance_id, settings=settings, symbol=data.symbol, account_currency=account_currency,
                broker_name=BROKER_TZ, ref_broker_name=BROKER_TZ, current_time=now, orders=infos, account=account,
                prices=prices, slots=slots,
            )
            if signals:
                translation = signals_to_intents(
                    signals, positions=_positions(sim), bid=Decimal(bid).scaleb(-data.digits),
                    ask=Decimal(ask).scaleb(-data.digits), spec=spec,
                )
                _apply(sim, translation.intents, bid, ask, now)
        if i == data.last and sim.trades:
            sim.close_all(bid, ask, now, "end_of_test")
        time_out[k] = now
        balance_out[k] = sim.balance
        equity_out[k] = sim.balance + sim.unrealized(bid, ask) if sim.trades else sim.balance
        in_market[k] = bool(sim.trades)
        k += 1
        if progress is not None and k % PROGRESS_EVERY == 0:
            progress(k, n)
        if stopped_out:
            break
    if progress is not None:
        progress(k, n)
    return EngineResult(trades=sim.closed, time=time_out[:k], balance=balance_out[:k], equity=equity_out[:k],
                        in_market=in_market[:k], initial_balance=float(initial_balance), rejected=sim.rejected,
                        stopped_out=stopped_out)


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
            sim.modify_ticket(intent.target_ticket, points(intent.stop_loss, digits), points(intent.take_profit, digits),
                              bid, ask)
        else:
            ticks = int(intent.units.scaleb(up))
            sl, tp = points(intent.stop_loss, digits), points(intent.take_profit, digits)
            if intent.order_type == "market":
                sim.open_market(buy, ticks, sl, tp, bid, ask, now)
            else:
                sim.open_pending(buy, intent.order_type == "stop", ticks, points(intent.price, digits), sl, tp,
                                 intent.expires_at, now)
