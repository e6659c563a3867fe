"""Framework: the typed Python face of any library implementing the Asirikuy Framework ABI."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from framework import _ffi
from framework.config import resolve_config_path
from framework.errors import FrameworkError, FrameworkInputError, FrameworkLoadError, error_for_code
from framework.settings import StrategySettings
from framework.types import (
    ACCOUNT_INFO_COUNT,
    BID_ASK_COUNT,
    CRATES_DTYPE,
    INT32_MAX,
    ORDER_INFO_DTYPE,
    RATES_INFO_DTYPE,
    RATES_SLOTS,
    SETTINGS_COUNT,
    SIGNAL_BITS,
    AccountInfo,
    BidAsk,
    DroppedSignal,
    OrderInfo,
    OrderSignal,
    RatesSlot,
    SignalAction,
    dropped_from_code,
)

INT32_MIN = -(2**31)


_address = _ffi.address_of


class _Buffers(threading.local):
    """Per-thread call buffers, allocated once, with their addresses cached.

    Inputs are copied in only when they changed (by identity: the typed inputs are frozen).
    """

    def __init__(self) -> None:
        self.settings = np.zeros(SETTINGS_COUNT, dtype=np.float64)
        self.account = np.zeros(ACCOUNT_INFO_COUNT, dtype=np.float64)
        self.bid_ask = np.zeros(BID_ASK_COUNT, dtype=np.float64)
        self.time_and_count = np.zeros(2, dtype=np.int32)
        self.rates_info = np.zeros(RATES_SLOTS, dtype=RATES_INFO_DTYPE)
        self.rates_info_2d = self.rates_info.view(np.float64).reshape(RATES_SLOTS, 7)
        self.results = np.zeros((1, 10), dtype=np.float64)
        self.orders = np.zeros((1, 15), dtype=np.float64)
        self.orders_dirty = False
        self.addr_settings = _address(self.settings)
        self.addr_account = _address(self.account)
        self.addr_bid_ask = _address(self.bid_ask)
        self.addr_time = _address(self.time_and_count)
        self.addr_rates_info = _address(self.rates_info)
        self.addr_results = _address(self.results)
        self.addr_orders = _address(self.orders)
        self.last_settings: StrategySettings | None = None
        self.last_account: AccountInfo | None = None
        self.last_prices: BidAsk | None = None
        self.last_time: int | None = None
        self.last_count = 0
        self.last_slots: list[RatesSlot | None] = [None] * RATES_SLOTS
        self.slot_count = 0
        self.rates_addr: list[int | None] = [None] * RATES_SLOTS
        self.keep_alive: list[np.ndarray | None] = [None] * RATES_SLOTS
        self.info_rows: list[tuple[float, ...] | None] = [None] * RATES_SLOTS
        self.price_row: tuple[float, ...] = ()
        self.last_dropped: list[DroppedSignal] = []

    def results_for(self, rows: int) -> np.ndarray:
        if len(self.results) != rows:
            self.results = np.zeros((rows, 10), dtype=np.float64)
            self.addr_results = _address(self.results)
        return self.results

    def orders_for(self, count: int) -> np.ndarray:
        if len(self.orders) < count:
            self.orders = np.zeros((count, 15), dtype=np.float64)
            self.addr_orders = _address(self.orders)
            self.orders_dirty = False
        return self.orders

    def set_slot(self, index: int, slot: RatesSlot | None) -> None:
        self.last_slots[index] = slot
        if slot is None:
            self.rates_info_2d[index] = 0.0
            self.info_rows[index] = None
            self.rates_addr[index] = None
            self.keep_alive[index] = None
            return
        rates = _as_rates(slot.rates, index)
        if rates is not self.keep_alive[index]:
            self.keep_alive[index] = rates
            self.rates_addr[index] = _address(rates)
        info = (
            1.0,
            slot.required_timeframe,
            slot.total_bars_required,
            slot.actual_timeframe,
            len(rates),
            slot.point,
            slot.digits,
        )
        if info != self.info_rows[index]:
            self.rates_info_2d[index] = info
            self.info_rows[index] = info


def _as_rates(rates: np.ndarray, slot: int) -> np.ndarray:
    """Return rates as a C-contiguous CRATES_DTYPE array, copying only when the caller's array is not one."""
    if rates.dtype == CRATES_DTYPE and rates.flags.c_contiguous:
        return rates
    names = rates.dtype.names or ()
    if "time" in names and len(rates) and int(np.max(rates["time"])) > INT32_MAX:
        raise FrameworkInputError(f"slot {slot}: bar times after 2038-01-19 do not fit the ABI's int32")
    missing = [name for name in CRATES_DTYPE.names or () if name not in names]
    if missing:
        raise FrameworkInputError(f"slot {slot}: rates lack the CRATES_DTYPE fields {missing}")
    # A copy, field by field (structured casts go by position): another dtype or a non-contiguous view.
    copy = np.empty(len(rates), dtype=CRATES_DTYPE)
    for name in CRATES_DTYPE.names or ():
        copy[name] = rates[name]
    return copy


def _decode(results: np.ndarray) -> list[OrderSignal]:
    signals: list[OrderSignal] = []
    masks = results[:, 1].tolist()
    if not any(masks):
        return signals
    for row_index, mask_value in enumerate(masks):
        if not mask_value:
            continue
        ticket, mask, lots, entry, sl, tp, isl, itp, trailing, expiry = results[row_index].tolist()
        for bit, (action, order_type) in SIGNAL_BITS.items():
            if int(mask) & bit:
                if action is SignalAction.CLOSE and int(mask) != bit:  # a close reads only its ticket
                    signals.append(OrderSignal(action, order_type, int(ticket), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, False, 0))
                    continue
                signals.append(
                    OrderSignal(
                        action=action,
                        order_type=order_type,
                        # an entry sharing a close's row (stop-and-reverse) carries the close's ticket: opens have 0
                        ticket=0 if action is SignalAction.OPEN else int(ticket),
                        lots=lots,
                        entry_price=entry,
                        sl_distance=sl,
                        tp_distance=tp,
                        internal_sl=isl,
                        internal_tp=itp,
                        trailing=bool(trailing),
                        expiration=int(expiry),
                    )
                )
    return signals


class Framework:
    """A loaded strategy library; thread-safe, one per process (see get_framework)."""

    def __init__(self, library: _ffi.Library, config_path: Path) -> None:
        self._lib = library
        self.config_path = config_path
        self.version = library.version()
        if self.version[0] not in _ffi.SUPPORTED_MAJOR_VERSIONS:
            raise FrameworkLoadError(
                f"{library.path} reports version {'.'.join(map(str, self.version))}; "
                f"supported major versions are {_ffi.SUPPORTED_MAJOR_VERSIONS}"
            )
        self._lock = threading.Lock()
        self._instances: set[int] = set()
        self._buffers = _Buffers()
        # Ours refuses inputs the legacy library takes (e.g. more open orders than ORDERINFO_ARRAY_SIZE): the binding
        # holds callers of ours to its rules and passes a foreign library what that library accepts.
        self.is_ours = library.is_ours

    @property
    def library_path(self) -> Path:
        """Path of the loaded library."""
        return self._lib.path

    @property
    def ffi(self) -> _ffi.Library:
        """The raw ctypes layer (for tests and benchmarks)."""
        return self._lib

    def _init(self, instance_id: int, is_testing: bool) -> None:
        code = self._lib.init_instance(instance_id, is_testing, str(self.config_path), str(instance_id))
        if code != 0:
            raise error_for_code(code, f"initInstanceC(instance {instance_id})")
        self._instances.add(instance_id)

    def ensure_instance(self, instance_id: int, is_testing: bool = False) -> None:
        """Register instance_id with the library once per process."""
        with self._lock:
            if instance_id not in self._instances:
                self._init(instance_id, is_testing)

    def reset_instance(self, instance_id: int, is_testing: bool = False) -> None:
        """Deinit and re-init instance_id, dropping any library state it had."""
        with self._lock:
            self._lib.deinit_instance(instance_id)
            self._instances.discard(instance_id)
            self._init(instance_id, is_testing)

    def deinit_instance(self, instance_id: int) -> None:
        """Deregister instance_id."""
        with self._lock:
            self._lib.deinit_instance(instance_id)
            self._instances.discard(instance_id)

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
        """Run one strategy evaluation; raise a FrameworkError subclass for a non-zero code.

        ``slots[i]`` feeds rates slot i; None (or a shorter sequence) disables a slot.
        """
        if settings.instance_id != instance_id:
            raise FrameworkInputError(
                f"settings are for instance {settings.instance_id}, run was asked for instance {instance_id}"
            )
        if not INT32_MIN <= current_time <= INT32_MAX:
            raise FrameworkInputError(f"current_time {current_time} does not fit the ABI's int32 (2038 limit)")
        if not slots or len(slots) > RATES_SLOTS:
            raise FrameworkInputError(f"between 1 and {RATES_SLOTS} rates slots are needed, was {len(slots)}")
        b = self._buffers
        if settings is not b.last_settings:
            np.copyto(b.settings, settings.array)
            b.last_settings = settings
        if current_time != b.last_time:
            b.time_and_count[0] = current_time
            b.last_time = current_time
        if account is not b.last_account:
            b.account[:] = account.as_row()
            b.last_account = account
        if prices is not b.last_prices:
            row = prices.as_row()
            if row != b.price_row:
                b.bid_ask[:] = row
                b.price_row = row
            b.last_prices = prices
        self._fill_orders(b, orders, settings.order_info_array_size, strict=self.is_ours)
        last_slots = b.last_slots
        count = len(slots)
        for i in range(count):
            if slots[i] is not last_slots[i]:
                b.set_slot(i, slots[i])
        for i in range(count, b.slot_count):
            b.set_slot(i, None)
        b.slot_count = count
        # Cleared before every call: the legacy library leaves the rows alone when it skips a call (disabled mode,
        # an unknown strategy, the same bar again). MAX_OPEN_ORDERS = 0 (which it accepts) still gets one row.
        results = b.results_for(max(settings.max_open_orders, 1))
        results.fill(0.0)
        code = self._lib.run_strategy(
            b.addr_settings,
            symbol,
            account_currency,
            broker_name,
            ref_broker_name,
            b.addr_time,
            b.addr_orders,
            b.addr_account,
            b.addr_bid_ask,
            b.addr_rates_info,
            b.rates_addr,
            b.addr_results,
        )
        b.last_dropped = []
        if code != 0:
            raise error_for_code(
                code, f"instance {instance_id}, strategy {settings.strategy_id}, {symbol}, time {current_time}"
            )
        if self._lib.has_drops:
            b.last_dropped = [dropped_from_code(bit, reason) for bit, _, reason in self._lib.last_drops()]
        return _decode(results)

    def last_dropped(self) -> list[DroppedSignal]:
        """The actions this thread's last ``run`` asked for but did not emit, with their reasons."""
        return list(self._buffers.last_dropped)

    @staticmethod
    def _fill_orders(b: _Buffers, orders: Sequence[OrderInfo], capacity: int, *, strict: bool = True) -> None:
        if not orders and not b.orders_dirty and b.last_count == 0 and len(b.orders) >= capacity:
            return  # no orders now, none written last time: the zeroed buffer and the count already say so
        buf = b.orders_for(max(capacity, 1))
        open_count = 0
        if b.orders_dirty:
            buf.fill(0.0)
            b.orders_dirty = False
        if orders:
            open_count = sum(1 for o in orders if o.is_open)
            if open_count > capacity and strict:
                raise FrameworkInputError(f"{open_count} open orders exceed ORDERINFO_ARRAY_SIZE={capacity}")
            # Open orders first (newest first when they do not all fit: the legacy library reads exactly
            # ORDERINFO_ARRAY_SIZE entries, and its count argument carries them all), then the most recent closed.
            kept = sorted(orders, key=lambda o: (not o.is_open, -o.open_time))[:capacity]
            buf[: len(kept)] = [o.as_row() for o in kept]
            b.orders_dirty = True
        if open_count != b.last_count:
            b.time_and_count[1] = open_count
            b.last_count = open_count


@dataclass(frozen=True, slots=True)
class RunnerSlot:
    """The RatesInfo of one slot of a Runner; its bars are a window the caller points at (count bars)."""

    required_timeframe: int
    total_bars_required: int
    actual_timeframe: int
    count: int  # bars in every window, the forming bar included
    point: float
    digits: int


@dataclass(frozen=True, slots=True)
class RunnerHotPath:
    """What ``Runner.run`` and ``Runner.set_window`` touch (see ``Runner.hot_path``)."""

    function: Any  # the prepared foreign function
    args: tuple[Any, ...]
    time_and_count: memoryview[int]  # int32[2]: current time, open-order count
    values: memoryview[float]  # the result rows as doubles
    masks: range  # indices of the rows' signal masks in ``values``
    dropped: Any | None  # a cell whose .value is the last call's drop count, or None
    windows: list[Any]  # per rates slot, a cell whose .value is the window's address
    clear: bool  # the result rows must be zeroed before each call (a foreign library)
    # asirikuy_run_strategy_forming (ours; None otherwise): the call that also writes the forming bar into slot 0's
    # last element and restores it. Write forming_in[0] (price) and [1] (time), call forming_function(*forming_args);
    # forming_out[0] is the drop count, forming_out[1] whether a row holds a signal (what the masks say).
    forming_function: Any | None = None
    forming_args: tuple[Any, ...] = ()
    forming_in: memoryview[float] | None = None
    forming_out: memoryview[int] | None = None


class Runner:
    """Repeated runs of one instance over buffers the caller updates in place (the parity backtester).

    The same c_runStrategy call with the same inputs as Framework.run, with nothing converted per call:
    the caller writes ``account`` (AccountInfo row), ``bid_ask`` (BidAsk row) and ``orders``
    (ORDER_INFO_DTYPE rows, open orders first, as Framework.run lays them out) and points each rates slot at
    ``count`` CRATES bars inside its own array (``set_window``; the array must outlive the calls). Not
    thread-safe: one Runner per thread.
    """

    def __init__(
        self,
        framework: Framework,
        *,
        settings: StrategySettings,
        symbol: str,
        account_currency: str,
        broker_name: str,
        ref_broker_name: str,
        account: AccountInfo,
        prices: BidAsk,
        slots: Sequence[RunnerSlot],
    ) -> None:
        if not slots or len(slots) > RATES_SLOTS:
            raise FrameworkInputError(f"between 1 and {RATES_SLOTS} rates slots are needed, was {len(slots)}")
        framework.ensure_instance(settings.instance_id)
        self.instance_id = settings.instance_id
        self.strategy_id = settings.strategy_id
        self.symbol = symbol
        self.settings = settings.array.copy()
        self.account = np.array(account.as_row(), dtype=np.float64)
        self.bid_ask = np.array(prices.as_row(), dtype=np.float64)
        self.time_and_count = np.zeros(2, dtype=np.int32)
        self.orders = np.zeros(max(settings.order_info_array_size, 1), dtype=ORDER_INFO_DTYPE)
        self.rates_info = np.zeros(RATES_SLOTS, dtype=RATES_INFO_DTYPE)
        info = self.rates_info.view(np.float64).reshape(RATES_SLOTS, 7)
        for index, slot in enumerate(slots):
            info[index] = (
                1.0,
                slot.required_timeframe,
                slot.total_bars_required,
                slot.actual_timeframe,
                slot.count,
                slot.point,
                slot.digits,
            )
        self.results = np.zeros((max(settings.max_open_orders, 1), 10), dtype=np.float64)
        # Ours clears its rows on every call (a test holds it to that); a foreign library may leave the last call's.
        self._clear = not framework.is_ours
        self._call = framework.ffi.prepared_run(
            settings=_address(self.settings),
            symbol=symbol,
            account_currency=account_currency,
            broker_name=broker_name,
            ref_broker_name=ref_broker_name,
            time_and_count=_address(self.time_and_count),
            orders=_address(self.orders),
            account=_address(self.account),
            bid_ask=_address(self.bid_ask),
            rates_info=_address(self.rates_info),
            results=_address(self.results),
        )
        self._cells = self._call.rates
        self._function, self._args = self._call.function, self._call.args
        self._time = self.time_and_count.data  # the array's own memoryview (numpy's stubs give arrays no buffer)
        self._values = self.results.data.cast("B").cast("d")
        self._masks = range(1, 10 * len(self.results), 10)
        self.dropped = 0  # actions dropped over every call so far (asirikuy_last_drops), when the library says
        self._dropped_cell = self._call.dropped  # written by the call itself (our trampoline), else None
        self._drop_count = None if self._dropped_cell is not None else framework.ffi.drop_count_function()

    @staticmethod
    def address(array: np.ndarray) -> int:
        """The address of an array's first element (windows are ``address(series) + start * itemsize``)."""
        return _address(array)

    def hot_path(self) -> RunnerHotPath:
        """The pieces of ``run`` and ``set_window`` for a caller that repeats them every bar and inlines them (the
        parity backtester: a method frame per call is a visible share of a bar). The caller owns the same duties
        as ``run``: write time and count, call, raise ``error_for_code`` on a non-zero code, add the drop count
        (``dropped`` holds the last call's, when not None) to ``Runner.dropped``, read the masks."""
        return RunnerHotPath(
            function=self._function,
            args=self._args,
            time_and_count=self._time,
            values=self._values,
            masks=self._masks,
            dropped=self._dropped_cell,
            windows=self._cells,
            clear=self._clear,
            forming_function=self._call.forming_function,
            forming_args=self._call.forming_args,
            forming_in=self._call.forming_in.data.cast("B").cast("d") if self._call.forming_function else None,
            forming_out=self._call.forming_out.data if self._call.forming_function else None,
        )

    def set_window(self, slot: int, address: int) -> None:
        """Point rates slot ``slot`` at the address of the first of its ``count`` bars."""
        self._cells[slot].value = address

    def run(self, current_time: int, open_count: int) -> bool:
        """Run the strategy once; True when it produced signals (read them with ``signals``)."""
        time_and_count = self._time
        time_and_count[0] = current_time
        time_and_count[1] = open_count
        if self._clear:
            self.results.fill(0.0)
        code = self._function(*self._args)
        if code != 0:
            raise error_for_code(
                code, f"instance {self.instance_id}, strategy {self.strategy_id}, {self.symbol}, time {current_time}"
            )
        if self._dropped_cell is not None:
            self.dropped += self._dropped_cell.value
        elif self._drop_count is not None:
            self.dropped += self._drop_count(None, 0)
        values = self._values
        for index in self._masks:
            if values[index]:
                return True
        return False

    def signals(self) -> list[OrderSignal]:
        """Decode the last run's signals (as Framework.run returns them) and clear the result rows."""
        signals = _decode(self.results)
        self.results.fill(0.0)
        return signals


_lock = threading.Lock()
_singleton: Framework | None = None


def load_framework(path: str | None = None, config_path: str | None = None) -> Framework:
    """Load a library implementing the ABI in this process and check its version.

    Its config is the generated "test" one unless given: in-process calls are ours (which never read it) and
    backtests (whose instances the library resets). Live calls of a foreign library run in a supervised child
    process with the "live" config (framework.isolated).
    """
    config = resolve_config_path(config_path, mode="test")
    if not config.is_file():
        raise FrameworkLoadError(f"framework config not found at {config}")
    return Framework(_ffi.Library(_ffi.resolve_library_path(path)), config)


def get_framework() -> Framework:
    """Return the process-wide Framework, loading it on first use."""
    global _singleton
    if _singleton is None:
        with _lock:
            if _singleton is None:
                _singleton = load_framework()
    return _singleton


def forget_framework() -> None:
    """Drop the process-wide Framework, so the next get_framework() loads the library the environment names now."""
    global _singleton
    with _lock:
        _singleton = None


__all__ = [
    "Framework",
    "Runner",
    "RunnerSlot",
    "FrameworkError",
    "forget_framework",
    "get_framework",
    "load_framework",
    "resolve_config_path",
]
