"""Running Python strategies with the same call, checks and answers as the C library's c_runStrategy.

``PythonHost.run`` takes Framework.run's arguments and returns its signals (``last_dropped`` as the
library's drops); ``PythonRunner`` is the parity backtester's twin of framework.Runner. Both check what the
library checks before a strategy runs (operational mode, slots, enough bars) and guard the call: an
exception, a call past the strategy's time limit or an answer that is not signals raises a StrategyError
subclass naming the instance, strategy, time and cause. The caller records it on the execution.
"""

from __future__ import annotations

import math
import threading
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np

from framework import _ffi
from framework.errors import (
    FrameworkInputError,
    InvalidParameterError,
    NotEnoughRatesDataError,
    StrategyCodeError,
    StrategyOutputError,
    StrategyTimeoutError,
)
from framework.pystrategy.base import Strategy
from framework.pystrategy.context import CallInputs, StrategyContext, entry_block
from framework.pystrategy.guard import Guard, StrategyTimeout, thread_guard
from framework.pystrategy.indicators import IndicatorSource, WindowSource
from framework.pystrategy.registry import python_strategy_class
from framework.settings import StrategySettings
from framework.types import (
    CRATES_DTYPE,
    AccountInfo,
    BidAsk,
    DroppedSignal,
    OperationalMode,
    OrderInfo,
    OrderSignal,
    OrderType,
    RatesSlot,
    SignalAction,
)

_objects: dict[tuple[int, tuple[tuple[str, float], ...]], Strategy] = {}


def strategy_object(settings: StrategySettings) -> tuple[type[Strategy], Strategy]:
    """The strategy object for these settings' strategy and parameters (created once per process)."""
    cls = python_strategy_class(settings.strategy_id)
    if cls is None:
        raise InvalidParameterError(f"strategy {settings.strategy_id} is not a loaded Python strategy")
    params = python_params(settings)
    key = (settings.strategy_id, tuple(sorted(params.items())))
    obj = _objects.get(key)
    if obj is None:
        try:
            obj = cls(params)
        except Exception as e:
            raise StrategyCodeError(f"{cls.__name__}({params}) failed: {_where(e)}") from e
        if len(_objects) > 512:
            _objects.clear()
        _objects[key] = obj
    return cls, obj


def forget_strategy_object(settings: StrategySettings) -> None:
    """Drop the cached object (after a timeout its state cannot be trusted)."""
    params = python_params(settings)
    _objects.pop((settings.strategy_id, tuple(sorted(params.items()))), None)


def python_params(settings: StrategySettings) -> dict[str, float]:
    """The strategy's parameters by name, read from the settings array at their catalog indices."""
    from framework.catalog import get_strategy

    spec = get_strategy(settings.strategy_id)
    array = settings.array
    return {p.name: float(array[p.index]) for p in spec.params}


def _where(e: BaseException) -> str:
    frames = traceback.extract_tb(e.__traceback__)
    if frames:
        last = frames[-1]
        return f"{type(e).__name__}: {e} ({last.filename}, line {last.lineno}, in {last.name})"
    return f"{type(e).__name__}: {e}"


def check_signals(answer: object) -> list[OrderSignal]:
    """An on_bar answer as OrderSignals (None = none); StrategyOutputError naming the first bad item."""
    if answer is None:
        return []
    if isinstance(answer, str | bytes | Mapping) or not isinstance(answer, Iterable):
        raise StrategyOutputError(f"on_bar returned {type(answer).__name__}; expected None or OrderSignal items")
    out: list[OrderSignal] = []
    for n, item in enumerate(answer):
        if not isinstance(item, OrderSignal):
            raise StrategyOutputError(f"item {n} is {type(item).__name__} {item!r:.80}, not an OrderSignal")
        if not isinstance(item.action, SignalAction) or not isinstance(item.order_type, OrderType):
            raise StrategyOutputError(f"item {n}: action/order_type must be SignalAction/OrderType")
        numbers = (item.lots, item.entry_price, item.sl_distance, item.tp_distance)
        if not all(isinstance(x, int | float) and math.isfinite(x) for x in numbers):
            raise StrategyOutputError(f"item {n}: lots, entry price and distances must be finite numbers: {item}")
        if item.sl_distance < 0 or item.tp_distance < 0:
            raise StrategyOutputError(f"item {n}: SL/TP distances cannot be negative: {item}")
        if item.action is SignalAction.OPEN and (item.lots <= 0 or item.entry_price <= 0):
            raise StrategyOutputError(f"item {n}: an open needs lots > 0 and an entry price > 0: {item}")
        if not isinstance(item.ticket, int) or not isinstance(item.expiration, int):
            raise StrategyOutputError(f"item {n}: ticket and expiration must be integers: {item}")
        out.append(item)
    return out


def call_strategy(
    obj: Strategy,
    cls: type[Strategy],
    settings: StrategySettings,
    ctx: StrategyContext,
    where: str,
    guard: Guard | None = None,
) -> list[OrderSignal]:
    """Timed exits, then on_bar under the time limit; the emitted and returned signals."""
    ctx.timed_exit()
    try:
        answer = (guard or thread_guard()).call(cls.time_limit, obj.on_bar, ctx)
    except StrategyTimeout:
        forget_strategy_object(settings)
        raise StrategyTimeoutError(f"{where}: on_bar ran past its time limit of {cls.time_limit:g} s") from None
    except (InvalidParameterError, NotEnoughRatesDataError):
        raise  # what the C library answers with a return code, a strategy may raise
    except Exception as e:
        raise StrategyCodeError(f"{where}: on_bar raised {_where(e)}") from e
    try:
        for signal in check_signals(answer):
            ctx.emit(signal)
    except StrategyOutputError as e:
        raise StrategyOutputError(f"{where}: {e.detail}") from None
    return ctx.signals()


def resample(rates: np.ndarray, timeframe: int) -> np.ndarray:
    """Finer bars in fixed ``timeframe``-minute buckets, as the C library resamples (weeks from Sunday)."""
    span = timeframe * 60
    shift = 345600 if timeframe == 10080 else 0
    bucket = (rates["time"].astype(np.int64) + shift) // span
    starts = np.flatnonzero(np.append(True, bucket[1:] != bucket[:-1]))
    ends = np.append(starts[1:], len(rates))
    out = np.zeros(len(starts), dtype=CRATES_DTYPE)
    out["open"] = rates["open"][starts]
    out["high"] = np.maximum.reduceat(rates["high"], starts)
    out["low"] = np.minimum.reduceat(rates["low"], starts)
    out["close"] = rates["close"][ends - 1]
    out["volume"] = np.add.reduceat(rates["volume"], starts)
    out["time"] = bucket[starts] * span - shift
    return out


def _slot_window(index: int, slot: RatesSlot, timeframe: int) -> np.ndarray:
    rates = slot.rates
    if rates.dtype != CRATES_DTYPE:
        copy = np.empty(len(rates), dtype=CRATES_DTYPE)
        for name in CRATES_DTYPE.names or ():
            copy[name] = rates[name]
        rates = copy
    required, actual = int(slot.required_timeframe), int(slot.actual_timeframe)
    if not (1 <= actual <= required <= 43200) or required % actual or (index == 0 and required != timeframe):
        raise InvalidParameterError(f"slot {index}: timeframes {actual} -> {required} are not valid")
    prices = np.column_stack([rates[n] for n in ("open", "high", "low", "close", "volume")])
    if not np.isfinite(prices).all() or (len(rates) > 1 and np.any(np.diff(rates["time"].astype(np.int64)) <= 0)):
        raise InvalidParameterError(f"slot {index}: bars must be finite with strictly increasing times")
    window = rates if actual == required else resample(rates, required)
    if len(window) < slot.total_bars_required:
        raise NotEnoughRatesDataError(f"slot {index}: {len(window)} bars, {slot.total_bars_required} required")
    return window


class PythonHost:
    """Framework.run's twin for Python strategies (live runs)."""

    def __init__(self, library: _ffi.Library | None = None) -> None:
        self.library = library
        self._dropped: list[DroppedSignal] = []

    def run(
        self,
        *,
        instance_id: int,
        settings: StrategySettings,
        symbol: str,
        account_currency: str,
        broker_name: str,
        ref_broker_name: str,
        current_time: int,
        orders: Sequence[OrderInfo],
        account: AccountInfo,
        prices: BidAsk,
        slots: Sequence[RatesSlot | None],
    ) -> list[OrderSignal]:
        """Run one evaluation; StrategyError subclasses for the strategy's faults, FrameworkError for inputs."""
        self._dropped = []
        if settings.instance_id != instance_id:
            raise FrameworkInputError(f"settings are for instance {settings.instance_id}, run asked for {instance_id}")
        mode = int(settings.value("OPERATIONAL_MODE"))
        if mode == OperationalMode.DISABLE:
            return []
        if not prices.bid >= 1e-9 or not prices.ask >= prices.bid:
            raise InvalidParameterError(f"bid {prices.bid} / ask {prices.ask} are not valid prices")
        cls, obj = strategy_object(settings)
        given = [s for s in slots if s is not None]
        if len(given) < len(cls.slots):
            raise InvalidParameterError(f"{cls.name} reads {len(cls.slots)} slots, {len(given)} were given")
        windows = [_slot_window(i, s, settings.timeframe) for i, s in enumerate(given)]
        from framework.catalog import get_strategy

        minimum = get_strategy(settings.strategy_id).minimum_bars(python_params(settings))
        for index, bars in minimum.items():
            if len(windows[index]) < bars:
                raise NotEnoughRatesDataError(f"slot {index}: {len(windows[index])} bars, the strategy needs {bars}")
        open_orders = [o for o in orders if o.is_open and o.ticket != 0]
        if len(open_orders) > settings.order_info_array_size:
            raise FrameworkInputError(f"{len(open_orders)} open orders exceed ORDERINFO_ARRAY_SIZE")
        kept = sorted(orders, key=lambda o: (not o.is_open, -o.open_time))[: settings.order_info_array_size]
        inputs = call_inputs(settings, python_params(settings), current_time, account, prices, given, mode)
        source: IndicatorSource = WindowSource(windows, _library(self.library))
        ctx = StrategyContext(inputs, windows, lambda: list(kept), [int(o.order_type) for o in open_orders], source)
        where = f"instance {instance_id}, strategy {settings.strategy_id} ({cls.name}), {symbol}, time {current_time}"
        signals = call_strategy(obj, cls, settings, ctx, where)
        self._dropped = ctx.dropped
        return signals

    def last_dropped(self) -> list[DroppedSignal]:
        """The actions the last ``run`` asked for but did not emit, with their reasons."""
        return list(self._dropped)


def _library(library: _ffi.Library | None) -> _ffi.Library | None:
    if library is not None:
        return library
    from framework.strategy import get_framework

    try:
        return get_framework().ffi
    except Exception:  # no C library: the numpy indicators serve Python strategies alone
        return None


def call_inputs(
    settings: StrategySettings,
    params: Mapping[str, float],
    current_time: int,
    account: AccountInfo,
    prices: BidAsk,
    slots: Sequence[RatesSlot],
    mode: int,
) -> CallInputs:
    """CallInputs from the typed inputs of a live call."""
    value = settings.value
    equity = value("ORIGINAL_EQUITY") if value("DISABLE_COMPOUNDING") == 1.0 else account.equity
    return CallInputs(
        settings={**settings.values, **params},
        params=params,
        time=int(current_time),
        timeframe=settings.timeframe,
        bid=prices.bid,
        ask=prices.ask,
        quote_conversion=max(prices.quote_conversion_bid, prices.quote_conversion_ask),
        equity=equity,
        balance=account.balance,
        contract_size=account.contract_size,
        minimum_stop=account.minimum_stop,
        max_open_orders=settings.max_open_orders,
        entry_block=entry_block(
            mode,
            prices.bid,
            prices.ask,
            value("MAX_SPREAD"),
            account.largest_drawdown_percent,
            value("MAX_DRAWDOWN_PERCENT"),
        ),
        points=[s.point for s in slots],
        timeframes=[s.required_timeframe for s in slots],
    )


OrdersReader = Callable[[], list[OrderInfo]]

_hosts = threading.local()


def python_host() -> PythonHost:
    """This thread's PythonHost (its ``last_dropped`` belongs to the thread's last run)."""
    host: PythonHost | None = getattr(_hosts, "host", None)
    if host is None:
        host = _hosts.host = PythonHost()
    return host
