"""What a Python strategy sees on one call, and the helpers it emits signals with.

The helpers apply the rules of our C library's trade.c, in the same order, so a Python port of a C strategy
produces the same rows: an entry needs entries allowed (ENABLE mode, spread within MAX_SPREAD, drawdown
below MAX_DRAWDOWN_PERCENT) and fewer than MAX_OPEN_ORDERS open orders (minus those closed on this call),
is sized on the risk, and takes a free result row or shares the row of a close (stop-and-reverse); an
action that cannot be emitted is recorded with its reason (``dropped``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from framework.pystrategy.indicators import IndicatorSource, pack_triplet
from framework.types import (
    ALL_ORDER_TICKETS,
    SIGNAL_BITS,
    DroppedSignal,
    OperationalMode,
    OrderInfo,
    OrderSignal,
    OrderType,
    SignalAction,
)

_BIT_ORDER = {key: n for n, key in enumerate(SIGNAL_BITS.values())}  # the binding's decode order in a row


@dataclass(slots=True)
class CallInputs:
    """The values of one call that do not come from the bars (as AskContext holds them); the parity backtester
    rewrites the per-bar fields in place."""

    settings: Mapping[str, float]  # every setting by name (StrategySettings.values plus the parameters)
    params: Mapping[str, float]  # the strategy's parameters by name
    time: int  # broker time of the call (the close of the last closed primary bar)
    timeframe: int
    bid: float
    ask: float
    quote_conversion: float  # larger of the two quote conversions, as the library sizes
    equity: float  # sizing base: equity, or ORIGINAL_EQUITY with DISABLE_COMPOUNDING
    balance: float
    contract_size: float
    minimum_stop: float
    max_open_orders: int
    entry_block: str  # "" = entries allowed, else the DROP_REASONS name
    points: Sequence[float]  # per slot
    timeframes: Sequence[int]  # per slot


@dataclass
class _Row:
    signals: list[OrderSignal] = field(default_factory=list)

    def only_closes(self) -> bool:
        return all(s.action is SignalAction.CLOSE for s in self.signals)


class StrategyContext:
    """Inputs of one call (bars, orders, account, prices, settings), indicator values and signal helpers."""

    def __init__(
        self,
        inputs: CallInputs,
        windows: Sequence[np.ndarray],
        orders: Callable[[], list[OrderInfo]],
        open_types: Sequence[int],
        source: IndicatorSource,
    ) -> None:
        self.inputs = inputs
        self.params = inputs.params
        self.time = inputs.time
        self.bid = inputs.bid
        self.ask = inputs.ask
        self._windows = windows
        self._orders = orders
        self.source = source
        counts = [0] * 6
        for order_type in open_types:
            counts[order_type] += 1
        self._open = counts
        self._rows: list[_Row] = []
        self.dropped: list[DroppedSignal] = []

    # --- inputs ------------------------------------------------------------------------------------------

    def bars(self, slot: int = 0) -> np.ndarray:
        """The slot's CRATES window: closed bars oldest first, the forming bar (O=H=L=C=bid) last."""
        return self._windows[slot]

    @property
    def orders(self) -> list[OrderInfo]:
        """Open orders (first) and recently closed ones of this instance, as the C strategies get them."""
        return self._orders()

    def open_count(self, order_type: OrderType) -> int:
        """Open orders of this type, minus those closed on this call."""
        return self._open[int(order_type)]

    def setting(self, name: str) -> float:
        """A setting by name (ACCOUNT_RISK_PERCENT, TIMED_EXIT_BARS, ...); 0 when unset."""
        return float(self.inputs.settings.get(name, 0.0))

    # --- indicators over closed bars (shift 0 = the last closed bar) ------------------------------------------

    def sma(self, period: int, *, slot: int = 0, shift: int = 0) -> float:
        return self.source.value(slot, "sma", int(period), 0.0, shift)

    def ema(self, period: int, *, slot: int = 0, shift: int = 0) -> float:
        return self.source.value(slot, "ema", int(period), 0.0, shift)

    def atr(self, period: int, *, slot: int = 0, shift: int = 0) -> float:
        return self.source.value(slot, "atr", int(period), 0.0, shift)

    def rsi(self, period: int, *, slot: int = 0, shift: int = 0) -> float:
        return self.source.value(slot, "rsi", int(period), 0.0, shift)

    def bollinger(self, period: int, k: float, *, slot: int = 0, shift: int = 0) -> tuple[float, float, float]:
        """(upper, middle, lower)."""
        v = self.source.value
        return (
            v(slot, "bb_upper", int(period), float(k), shift),
            v(slot, "bb_middle", int(period), float(k), shift),
            v(slot, "bb_lower", int(period), float(k), shift),
        )

    def donchian(self, period: int, *, slot: int = 0, shift: int = 0) -> tuple[float, float]:
        """(highest high, lowest low) of ``period`` closed bars."""
        v = self.source.value
        return v(slot, "donchian_high", int(period), 0.0, shift), v(slot, "donchian_low", int(period), 0.0, shift)

    def macd(self, fast: int, slow: int, signal: int, *, slot: int = 0, shift: int = 0) -> tuple[float, float, float]:
        """(line, signal, histogram)."""
        period, param = pack_triplet(int(fast), int(slow), int(signal))
        v = self.source.value
        line = v(slot, "macd_line", period, param, shift)
        return line, v(slot, "macd_signal", period, param, shift), v(slot, "macd_hist", period, param, shift)

    def stochastic(
        self, k_period: int, slow_k: int, d_period: int, *, slot: int = 0, shift: int = 0
    ) -> tuple[float, float]:
        """(slow %K, %D)."""
        period, param = pack_triplet(int(k_period), int(slow_k), int(d_period))
        v = self.source.value
        return v(slot, "stoch_k", period, param, shift), v(slot, "stoch_d", period, param, shift)

    # --- sizing and signals (trade.c) --------------------------------------------------------------------------

    def lots(self, sl_distance: float, atr: float) -> float:
        """risk% x equity / (distance x contract size x quote conversion), down to 0.01, at least 0.01; 0 =
        cannot size. distance = the stop distance, or the ATR without a stop."""
        i = self.inputs
        distance = sl_distance if sl_distance > 0.0 else atr
        if not distance > 0.0 or not i.equity > 0.0:
            return 0.0
        risk = self.setting("ACCOUNT_RISK_PERCENT") / 100.0 * i.equity
        raw = risk / (distance * i.contract_size * i.quote_conversion)
        if not math.isfinite(raw):
            return 0.0
        lots = math.floor(raw * 100.0 + 1e-7) / 100.0
        return 0.01 if lots < 0.01 else lots

    def open_market(self, order_type: OrderType, sl: float, tp: float, atr: float) -> bool:
        """A market BUY (at the ask) or SELL (at the bid) with SL/TP distances; sized on sl (or atr)."""
        price = self.ask if order_type == OrderType.BUY else self.bid
        return self._open_order(OrderType(order_type), price, sl, tp, atr, 0, None)

    def open_pending(
        self, order_type: OrderType, price: float, sl: float, tp: float, atr: float, expiration: int
    ) -> bool:
        """A BUYSTOP/SELLSTOP/BUYLIMIT/SELLLIMIT at ``price`` expiring at ``expiration`` (epoch s, 0 = never)."""
        return self._open_order(OrderType(order_type), price, sl, tp, atr, int(expiration), None)

    def close(self, order_type: OrderType, ticket: int = ALL_ORDER_TICKETS) -> bool:
        """Close (or cancel) the order ``ticket``, or all of this type (-1)."""
        order_type = OrderType(order_type)
        row = self._next_row()
        if row is None:
            return self._drop(SignalAction.CLOSE, order_type, "rows_full")
        row.signals.append(
            OrderSignal(SignalAction.CLOSE, order_type, int(ticket), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, False, 0)
        )
        if ticket == ALL_ORDER_TICKETS:
            self._open[order_type] = 0
        elif self._open[order_type] > 0:
            self._open[order_type] -= 1
        return True

    def update(self, order_type: OrderType, ticket: int, sl: float, tp: float, trailing: bool = False) -> bool:
        """Move an open trade's SL/TP: new SL = ask - sl (buy) / bid + sl (sell); 0 leaves a side alone."""
        order_type = OrderType(order_type)
        row = self._next_row()
        if row is None:
            return self._drop(SignalAction.UPDATE, order_type, "rows_full")
        row.signals.append(
            OrderSignal(
                SignalAction.UPDATE,
                order_type,
                int(ticket),
                0.0,
                0.0,
                float(sl),
                float(tp),
                0.0,
                0.0,
                bool(trailing),
                0,
            )
        )
        return True

    def timed_exit(self) -> None:
        """Close by ticket every open BUY/SELL older than TIMED_EXIT_BARS primary bars (run before on_bar)."""
        bars = int(self.setting("TIMED_EXIT_BARS"))
        if bars <= 0:
            return
        limit = float(bars) * self.inputs.timeframe * 60.0
        for o in self.orders:
            if o.ticket == 0 or not o.is_open or o.order_type not in (OrderType.BUY, OrderType.SELL):
                continue
            if float(self.time) - o.open_time >= limit:
                self.close(o.order_type, o.ticket)

    def emit(self, signal: OrderSignal) -> bool:
        """Emit a ready OrderSignal (what on_bar may return) through the same rules; its lots are kept."""
        if signal.action is SignalAction.CLOSE:
            return self.close(signal.order_type, signal.ticket)
        if signal.action is SignalAction.UPDATE:
            return self.update(
                signal.order_type, signal.ticket, signal.sl_distance, signal.tp_distance, signal.trailing
            )
        return self._open_order(
            signal.order_type,
            signal.entry_price,
            signal.sl_distance,
            signal.tp_distance,
            0.0,
            signal.expiration,
            signal.lots,
        )

    def signals(self) -> list[OrderSignal]:
        """The emitted signals in the binding's order (row by row, a row's bits in SIGNAL_BITS order)."""
        out: list[OrderSignal] = []
        for row in self._rows:
            if len(row.signals) == 1:
                out.append(row.signals[0])
            else:
                out.extend(sorted(row.signals, key=lambda s: _BIT_ORDER[(s.action, s.order_type)]))
        return out

    # --- internals ------------------------------------------------------------------------------------------

    def _drop(self, action: SignalAction, order_type: OrderType, reason: str) -> bool:
        self.dropped.append(DroppedSignal(action, order_type, reason))
        return False

    def _next_row(self) -> _Row | None:
        if len(self._rows) >= self.inputs.max_open_orders:
            return None
        row = _Row()
        self._rows.append(row)
        return row

    def _open_order(
        self,
        order_type: OrderType,
        price: float,
        sl: float,
        tp: float,
        atr: float,
        expiration: int,
        lots: float | None,
    ) -> bool:
        block = self.inputs.entry_block
        if not block and sum(self._open) >= self.inputs.max_open_orders:
            block = "max_open_orders"
        if block:
            return self._drop(SignalAction.OPEN, order_type, block)
        size = self.lots(sl, atr) if lots is None else lots
        if size <= 0.0:
            return self._drop(SignalAction.OPEN, order_type, "no_size")
        row = self._next_row()
        if row is None:
            row = next((r for r in self._rows if r.only_closes()), None)
        if row is None:
            return self._drop(SignalAction.OPEN, order_type, "rows_full")
        row.signals.append(
            OrderSignal(
                SignalAction.OPEN, order_type, 0, size, float(price), float(sl), float(tp), 0.0, 0.0, False, expiration
            )
        )
        self._open[order_type] += 1
        return True


def entry_block(mode: int, bid: float, ask: float, max_spread: float, drawdown: float, max_drawdown: float) -> str:
    """ "" when entries are allowed, else the reason (as api.c decides it)."""
    if mode != OperationalMode.ENABLE:
        return "monitor_mode"
    if max_spread != 0.0 and not ask - bid <= max_spread + 1e-12:
        return "spread"
    if max_drawdown != 0.0 and not drawdown < max_drawdown:
        return "drawdown"
    return ""
