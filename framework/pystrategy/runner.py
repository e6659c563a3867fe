"""PythonRunner: framework.Runner's twin for Python strategies in the parity backtester.

The parity engine writes the same buffers (account, bid/ask, order rows) and points each slot at the same
window; this runner builds the StrategyContext from them and reads indicator values from a SeriesSource
(every window's value computed once per run, the same bits a live call computes on that window).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from framework.pystrategy.context import CallInputs, StrategyContext, entry_block
from framework.pystrategy.guard import Guard
from framework.pystrategy.host import call_strategy, python_params, strategy_object
from framework.pystrategy.indicators import SeriesSource
from framework.settings import StrategySettings
from framework.strategy import RunnerSlot
from framework.types import CRATES_DTYPE, ORDER_INFO_DTYPE, AccountInfo, BidAsk, OrderInfo, OrderSignal, OrderType

_ITEM = CRATES_DTYPE.itemsize


class PythonRunner:
    """Repeated runs of one Python strategy instance over buffers the parity engine updates in place."""

    def __init__(
        self,
        *,
        settings: StrategySettings,
        symbol: str,
        account: AccountInfo,
        prices: BidAsk,
        slots: Sequence[RunnerSlot],
        series: Sequence[np.ndarray],
        counts: Sequence[int],
    ) -> None:
        self.instance_id = settings.instance_id
        self.strategy_id = settings.strategy_id
        self.symbol = symbol
        self.settings = settings
        self.cls, self.obj = strategy_object(settings)
        if len(slots) < len(self.cls.slots):
            raise ValueError(f"{self.cls.name} reads {len(self.cls.slots)} slots, the run has {len(slots)}")
        self.account = np.array(account.as_row(), dtype=np.float64)
        self.bid_ask = np.array(prices.as_row(), dtype=np.float64)
        self.orders = np.zeros(max(settings.order_info_array_size, 1), dtype=ORDER_INFO_DTYPE)
        self._rows = self.orders.view(np.float64).reshape(len(self.orders), 15)
        self._series = list(series)
        self._bases = [int(s.ctypes.data) for s in series]
        self._counts = [slot.count for slot in slots]  # window + the forming bar
        # the tables are computed on a copy: the parity engine writes each call's forming bar into the series
        pristine = [np.ascontiguousarray(s[:n]).copy() for s, n in zip(series, counts, strict=True)]
        self.source = SeriesSource(pristine, list(counts), [slot.count - 1 for slot in slots])
        self._windows: list[np.ndarray] = [s[:0] for s in series]
        params = python_params(settings)
        value = settings.value
        self._mode = int(value("OPERATIONAL_MODE"))
        self._max_spread = value("MAX_SPREAD")
        self._max_drawdown = value("MAX_DRAWDOWN_PERCENT")
        self._fixed_equity = value("ORIGINAL_EQUITY") if value("DISABLE_COMPOUNDING") == 1.0 else None
        self.inputs = CallInputs(
            settings={**settings.values, **params},
            params=params,
            time=0,
            timeframe=settings.timeframe,
            bid=0.0,
            ask=0.0,
            quote_conversion=1.0,
            equity=0.0,
            balance=0.0,
            contract_size=account.contract_size,
            minimum_stop=account.minimum_stop,
            max_open_orders=settings.max_open_orders,
            entry_block="",
            points=[slot.point for slot in slots],
            timeframes=[slot.required_timeframe for slot in slots],
        )
        self._where = f"instance {self.instance_id}, strategy {self.strategy_id} ({self.cls.name}), {symbol}"
        self._signals: list[OrderSignal] = []
        self.dropped = 0
        # The arrays' own memoryviews (.data: numpy's stubs give ndarray no __buffer__ before Python 3.12).
        self._account_view = self.account.data
        self._prices_view = self.bid_ask.data
        self._flat = self._rows.reshape(-1).data
        # entries are blocked by the mode alone unless a spread or drawdown limit is set (then per bar)
        self._checks_prices = self._max_spread != 0.0 or self._max_drawdown != 0.0
        self.inputs.entry_block = entry_block(self._mode, 1.0, 1.0, 0.0, 0.0, 0.0)
        self._guard = Guard(use_signal=False)
        self.source.table_context = self._guard.paused  # a run's indicator tables are not the strategy's time

    @staticmethod
    def address(array: np.ndarray) -> int:
        """The address of an array's first element (as framework.Runner.address)."""
        return int(array.ctypes.data)

    def set_window(self, slot: int, address: int) -> None:
        """Point slot ``slot`` at the window starting at ``address`` inside its series."""
        start = (address - self._bases[slot]) // _ITEM
        end = start + self._counts[slot]
        self._windows[slot] = self._series[slot][start:end]
        self.source.ends[slot] = end - 2  # the last closed bar (the forming bar is at end - 1)

    def run(self, current_time: int, open_count: int) -> bool:
        """Run the strategy once; True when it produced signals (read them with ``signals``)."""
        inputs = self.inputs
        account, prices = self._account_view, self._prices_view
        bid, ask = prices[0], prices[1]
        inputs.time = current_time
        inputs.bid, inputs.ask = bid, ask
        inputs.quote_conversion = prices[4] if prices[4] >= prices[5] else prices[5]
        inputs.balance = account[1]
        inputs.equity = account[2] if self._fixed_equity is None else self._fixed_equity
        if self._checks_prices:
            inputs.entry_block = entry_block(self._mode, bid, ask, self._max_spread, account[9], self._max_drawdown)
        flat = self._flat
        types = [int(flat[2 + 15 * j]) for j in range(open_count)] if open_count else []
        self.source.next_call(self._windows)
        ctx = StrategyContext(inputs, self._windows, self._read_orders, types, self.source)
        self._signals = call_strategy(
            self.obj, self.cls, self.settings, ctx, f"{self._where}, time {current_time}", self._guard
        )
        if ctx.dropped:
            self.dropped += len(ctx.dropped)
        return bool(self._signals)

    def signals(self) -> list[OrderSignal]:
        """The last run's signals (as Runner.signals)."""
        signals, self._signals = self._signals, []
        return signals

    def _read_orders(self) -> list[OrderInfo]:
        out: list[OrderInfo] = []
        for row in self._rows.tolist():
            if row[0] == 0.0:
                continue
            out.append(
                OrderInfo(
                    ticket=int(row[0]),
                    instance_id=int(row[1]),
                    order_type=OrderType(int(row[2])),
                    open_time=int(row[3]),
                    close_time=int(row[4]),
                    stop_loss=row[5],
                    take_profit=row[6],
                    expiration=int(row[7]),
                    open_price=row[8],
                    close_price=row[9],
                    lots=row[10],
                    profit=row[11],
                    commission=row[12],
                    swap=row[13],
                    is_open=row[14] != 0.0,
                )
            )
        return out
