"""The ctypes layer: the only module that imports ctypes.

It loads a library implementing the Asirikuy Framework ABI (ours or the real
AsirikuyFrameworkAPI), declares argtypes/restype for every export, and offers
thin calls taking plain ints, bytes and numpy arrays. Nothing else in the
package touches ctypes; return codes are mapped to exceptions by the caller.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
import weakref
from collections.abc import Callable
from pathlib import Path

import numpy as np

from framework.errors import FrameworkLoadError

_IS_WINDOWS = sys.platform == "win32"
LIBRARY_BASENAME = "libasirikuy_framework"
LIBRARY_SUFFIX = ".dll" if _IS_WINDOWS else (".dylib" if sys.platform == "darwin" else ".so")
DEFAULT_LIBRARY_PATH = Path(__file__).resolve().parent / "c" / "build" / f"{LIBRARY_BASENAME}{LIBRARY_SUFFIX}"

# Major versions whose ABI this binding speaks: 4 = the legacy AsirikuyFrameworkAPI, 5 = ours.
SUPPORTED_MAJOR_VERSIONS = (4, 5)


class CRates(ctypes.Structure):
    """One bar (48 bytes on 64-bit targets)."""

    _fields_ = [
        ("open", ctypes.c_double),
        ("high", ctypes.c_double),
        ("low", ctypes.c_double),
        ("close", ctypes.c_double),
        ("volume", ctypes.c_double),
        ("time", ctypes.c_int),
    ]


def _doubles(*names: str) -> list[tuple[str, type[ctypes.c_double]]]:
    return [(name, ctypes.c_double) for name in names]


class COrderInfo(ctypes.Structure):
    """One order, 15 doubles."""

    _fields_ = _doubles(
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


class CRatesInfo(ctypes.Structure):
    """One rates slot description, 7 doubles."""

    _fields_ = _doubles(
        "isEnabled", "requiredTimeframe", "totalBarsRequired", "actualTimeframe", "ratesArraySize", "point", "digits"
    )


class StrategyResults(ctypes.Structure):
    """One result row, 10 doubles."""

    _fields_ = _doubles(
        "ticketNumber",
        "tradingSignals",
        "lots",
        "entryPrice",
        "brokerSL",
        "brokerTP",
        "internalSL",
        "internalTP",
        "useTrailingSL",
        "expirationTime",
    )


STRUCTS: dict[str, type[ctypes.Structure]] = {
    "CRates": CRates,
    "COrderInfo": COrderInfo,
    "CRatesInfo": CRatesInfo,
    "StrategyResults": StrategyResults,
}


def struct_layout(name: str) -> tuple[int, dict[str, int]]:
    """Return (sizeof, {field: offset}) of a ctypes mirror of a C struct."""
    struct = STRUCTS[name]
    return ctypes.sizeof(struct), {field[0]: getattr(struct, field[0]).offset for field in struct._fields_}


def address_of(array: np.ndarray) -> int:
    """Return the address of an array's first byte (cheaper than ndarray.ctypes for writable arrays)."""
    try:
        return ctypes.addressof(ctypes.c_char.from_buffer(array))  # type: ignore[arg-type]
    except (TypeError, ValueError, BufferError):  # read-only or empty
        return int(array.ctypes.data)


def resolve_library_path(path: str | os.PathLike[str] | None = None) -> Path:
    """Return the library path: argument, then ASIRIKUY_FRAMEWORK_LIBRARY, then our build."""
    if path is not None:
        return Path(path)
    env = os.environ.get("ASIRIKUY_FRAMEWORK_LIBRARY")
    return Path(env) if env else DEFAULT_LIBRARY_PATH


class _StringCache(threading.local):
    """Per-thread writable char buffers by text, so a call does not allocate four new ones."""

    def __init__(self) -> None:
        self.buffers: dict[str, tuple[object, bytes]] = {}
        # The four buffers of one call by its four texts: one lookup per call instead of four.
        self.calls: dict[tuple[str | None, ...], tuple[tuple[object, bytes | None], ...]] = {}


_P = ctypes.c_void_p  # pointer arguments are passed as addresses (ints) of numpy buffers
_S = ctypes.c_char_p  # writable create_string_buffer objects
_I = ctypes.c_int


class Library:
    """A loaded ABI library with every export declared."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise FrameworkLoadError(f"library not found at {path}; build it with `make -C framework/c`")
        loader = ctypes.WinDLL if _IS_WINDOWS else ctypes.CDLL  # type: ignore[attr-defined]
        try:
            self._lib = loader(str(path))
        except OSError as e:
            raise FrameworkLoadError(f"cannot load {path}: {e}") from e
        self.path = path
        try:
            self._declare()
        except AttributeError as e:
            raise FrameworkLoadError(f"{path} does not export the Asirikuy Framework ABI: {e}") from e
        self._run = self._lib.c_runStrategy
        self._init = self._lib.initInstanceC
        self._deinit = self._lib.deinitInstance
        self._version = self._lib.getFrameworkVersion
        self._strings = _StringCache()
        # The legacy library may rewrite the currency in place, so its buffers are checked after every call;
        # ours (recognised by its own backtest export) only reads its char* arguments (a test holds it to that).
        self.strings_checked = not self.has_backtest

    def _declare(self) -> None:
        lib = self._lib
        lib.initInstanceC.argtypes = [_I, _I, _S, _S]
        lib.initInstanceC.restype = _I
        lib.deinitInstance.argtypes = [_I]
        lib.deinitInstance.restype = None
        lib.getFrameworkVersion.argtypes = [ctypes.POINTER(_I)] * 3
        lib.getFrameworkVersion.restype = None
        # settings, symbol, currency, broker, ref broker, &time, &count, orders, account, bid/ask,
        # rates info, rates 0..9, results
        lib.c_runStrategy.argtypes = [_P, _S, _S, _S, _S, _P, _P, _P, _P, _P, _P] + [_P] * 10 + [_P]
        lib.c_runStrategy.restype = _I
        self.has_backtest = hasattr(lib, "asirikuy_backtest_run")
        # Ours is recognised by its own backtest export, which no legacy library has.
        self.is_ours = self.has_backtest
        if self.has_backtest:
            _declare_backtest(lib)
        self.has_indicator = hasattr(lib, "asirikuy_indicator")
        if self.has_indicator:
            lib.asirikuy_indicator.argtypes = [_I, _P, _I, _I, ctypes.c_double, _P]
            lib.asirikuy_indicator.restype = _I
        # our newer exports: per-call indicator tails, per-window series and the last call's dropped actions
        self.has_indicator_windows = hasattr(lib, "asirikuy_indicator_windows")
        if self.has_indicator_windows:
            lib.asirikuy_indicator_tail.argtypes = [_I, _P, _I, _I, ctypes.c_double, _I, _P]
            lib.asirikuy_indicator_tail.restype = _I
            lib.asirikuy_indicator_windows.argtypes = [_I, _P, _I, _I, ctypes.c_double, _I, _I, _P]
            lib.asirikuy_indicator_windows.restype = _I
        # our c_runStrategy trampoline taking its 22 arguments as one array (PreparedRun: the parity backtester)
        self.has_run_args = hasattr(lib, "asirikuy_run_strategy_args")
        self.has_run_forming = hasattr(lib, "asirikuy_run_strategy_forming")
        self.has_drops = hasattr(lib, "asirikuy_last_drops")
        if self.has_drops:
            lib.asirikuy_last_drops.argtypes = [_P, _I]
            lib.asirikuy_last_drops.restype = _I

    def version(self) -> tuple[int, int, int]:
        """Call getFrameworkVersion."""
        major, minor, bugfix = _I(-1), _I(-1), _I(-1)
        self._version(ctypes.byref(major), ctypes.byref(minor), ctypes.byref(bugfix))
        return major.value, minor.value, bugfix.value

    def init_instance(self, instance_id: int, is_testing: bool, config_path: str | None, account_name: str) -> int:
        """Call initInstanceC; config_path None passes NULL."""
        config = None if config_path is None else ctypes.create_string_buffer(os.fsencode(config_path))
        account = ctypes.create_string_buffer(account_name.encode())
        return int(self._init(instance_id, 1 if is_testing else 0, config, account))

    def deinit_instance(self, instance_id: int) -> None:
        """Call deinitInstance."""
        self._deinit(instance_id)

    def _cstr(self, text: str | None, size: int = 0) -> tuple[object, bytes | None]:
        """Return a per-thread cached writable buffer holding text (None -> NULL)."""
        if text is None:
            return None, None
        cache = self._strings.buffers
        entry = cache.get(text)
        if entry is None:
            raw = text.encode()
            if len(cache) > 256:
                cache.clear()
            entry = cache[text] = (ctypes.create_string_buffer(raw, max(size, len(raw) + 1)), raw)
        return entry

    def run_strategy(
        self,
        settings: int | None,
        symbol: str | None,
        account_currency: str | None,
        broker_name: str | None,
        ref_broker_name: str | None,
        time_and_count: int | None,
        orders: int | None,
        account: int | None,
        bid_ask: int | None,
        rates_info: int | None,
        rates: list[int | None],
        results: int | None,
    ) -> int:
        """Call c_runStrategy with buffer addresses (None passes NULL; only tests do that).

        time_and_count is the address of an int32[2]: the current broker time and the open-order count.
        Every char* is a writable buffer; one the library rewrote (the real library normalises the
        account currency in place) is dropped from the per-thread cache after the call.
        """
        texts = (symbol, account_currency, broker_name, ref_broker_name)
        local = self._strings
        strings = local.calls.get(texts)
        if strings is None:
            strings = (
                self._cstr(symbol),
                self._cstr(account_currency, 16),
                self._cstr(broker_name),
                self._cstr(ref_broker_name),
            )
            if len(local.calls) > 256:
                local.calls.clear()
            local.calls[texts] = strings
        code = self._run(
            settings,
            strings[0][0],
            strings[1][0],
            strings[2][0],
            strings[3][0],
            time_and_count,
            None if time_and_count is None else time_and_count + 4,
            orders,
            account,
            bid_ask,
            rates_info,
            *rates,
            results,
        )
        if not self.strings_checked:
            return int(code)
        for text, (buf, raw) in zip(texts, strings, strict=True):
            if buf is not None and buf.value != raw:  # type: ignore[attr-defined]
                local.buffers.pop(text, None)  # type: ignore[arg-type]
                local.calls.clear()  # other calls may share the rewritten buffer
        return int(code)

    def prepared_run(
        self,
        *,
        settings: int,
        symbol: str,
        account_currency: str,
        broker_name: str,
        ref_broker_name: str,
        time_and_count: int,
        orders: int,
        account: int,
        bid_ask: int,
        rates_info: int,
        results: int,
    ) -> PreparedRun:
        """Return a c_runStrategy call whose arguments are all prebuilt (buffer addresses the caller owns)."""
        return PreparedRun(
            self,
            settings=settings,
            texts=(symbol, account_currency, broker_name, ref_broker_name),
            time_and_count=time_and_count,
            orders=orders,
            account=account,
            bid_ask=bid_ask,
            rates_info=rates_info,
            results=results,
        )

    def raw_run_function(self) -> object:
        """Return the declared c_runStrategy function object (for the benchmark's raw-call timing)."""
        return self._run

    def version_function(self) -> tuple[object, tuple[object, ...]]:
        """Return the declared getFrameworkVersion and prebuilt by-reference args (benchmark baseline)."""
        cells = (_I(), _I(), _I())
        return self._version, tuple(ctypes.byref(c) for c in cells)

    def make_string_buffer(self, value: bytes, size: int | None = None) -> object:
        """Return a writable char buffer (for the benchmark's raw-call timing)."""
        return ctypes.create_string_buffer(value, size) if size else ctypes.create_string_buffer(value)

    def indicator(self, kind: int, rates: np.ndarray, period: int, param: float) -> tuple[int, np.ndarray]:
        """Call our asirikuy_indicator export (absent from the legacy library)."""
        if not self.has_indicator:
            raise FrameworkLoadError(f"{self.path} has no asirikuy_indicator export")
        out = np.full(len(rates), np.nan)
        code = self._lib.asirikuy_indicator(kind, rates.ctypes.data, len(rates), period, param, out.ctypes.data)
        return int(code), out

    def indicator_tail(self, kind: int, rates: np.ndarray, period: int, param: float, out: np.ndarray) -> int:
        """Call asirikuy_indicator_tail: the last len(out) values over ``rates`` (C-contiguous CRATES)."""
        return int(
            self._lib.asirikuy_indicator_tail(
                kind, address_of(rates), len(rates), period, param, len(out), out.ctypes.data
            )
        )

    def indicator_windows(
        self, kind: int, rates: np.ndarray, count: int, period: int, param: float, window: int, shift: int
    ) -> tuple[int, np.ndarray]:
        """Call asirikuy_indicator_windows over the first ``count`` bars of ``rates``."""
        out = np.empty(count, dtype=np.float64)
        code = self._lib.asirikuy_indicator_windows(
            kind, address_of(rates), count, period, param, window, shift, out.ctypes.data
        )
        return int(code), out

    def indicator_incremental(self, kind: int, rates: np.ndarray, period: int, param: float) -> tuple[int, np.ndarray]:
        """Call our asirikuy_indicator_incremental export (the fast engine's O(1)-per-bar indicators)."""
        out = np.full(len(rates), np.nan)
        code = self._lib.asirikuy_indicator_incremental(
            kind, rates.ctypes.data, len(rates), period, param, out.ctypes.data
        )
        return int(code), out

    def drop_count_function(self) -> Callable[[object, int], int] | None:
        """asirikuy_last_drops as a bare function (call it with (None, 0) for the count), or None."""
        return self._lib.asirikuy_last_drops if self.has_drops else None

    def last_drops(self) -> list[tuple[int, int, int]]:
        """(signal bit, order type, reason) of the actions this thread's last c_runStrategy dropped."""
        if not self.has_drops:
            return []
        count = int(self._lib.asirikuy_last_drops(None, 0))  # the count alone: most calls drop nothing
        if not count:
            return []
        rows = np.zeros((min(count, 32), 3), dtype=np.int32)  # per call: the thread's own buffer
        self._lib.asirikuy_last_drops(rows.ctypes.data, len(rows))
        return [(int(a), int(b), int(c)) for a, b, c in rows.tolist()]


def async_raise(thread_id: int, exception: type[BaseException]) -> bool:
    """Raise ``exception`` in another Python thread at its next bytecode (the strategy time limit off the
    main thread, where no signal reaches); True when the thread was found."""
    found = ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exception))
    return int(found) == 1


class PreparedRun:
    """c_runStrategy with every argument built once, for calls repeated thousands of times (backtests).

    The function object is a second lookup of the export without argtypes, so the prebuilt ctypes
    arguments pass as they are (no per-call conversion); the rates slot pointers are mutable cells.
    The char buffers are fresh copies: a library that normalises one in place sees its own result
    on the next call.
    """

    def __init__(
        self,
        library: Library,
        *,
        settings: int,
        texts: tuple[str, str, str, str],
        time_and_count: int,
        orders: int,
        account: int,
        bid_ask: int,
        rates_info: int,
        results: int,
    ) -> None:
        self._strings = [ctypes.create_string_buffer(text.encode(), max(16, len(text.encode()) + 1)) for text in texts]
        self.dropped: ctypes.c_int | None = None  # the last call's dropped actions, when the trampoline reports them
        # asirikuy_run_strategy_forming (when the library has it): the same call with the forming bar written
        # into slot 0's last element and restored by the library; forming_args' buffers are forming_in
        # (price, time) and forming_out (dropped actions, whether a row holds a signal)
        self.forming_function: object | None = None
        self.forming_args: tuple[object, ...] = ()
        self.forming_in = np.zeros(2, dtype=np.float64)
        self.forming_out = np.zeros(2, dtype=np.int32)
        if library.has_run_args:
            # asirikuy_run_strategy_args: the 22 addresses in one array (one argument to convert per call instead
            # of 22) and the drop count written back (no second call). Called through a PyDLL handle, which keeps
            # the GIL: the call takes microseconds, less than handing the GIL over and back would.
            argv = (ctypes.c_void_p * 22)(
                settings,
                *(ctypes.addressof(b) for b in self._strings),
                time_and_count,
                time_and_count + 4,
                orders,
                account,
                bid_ask,
                rates_info,
                *([None] * 10),
                results,
            )
            self._argv = argv
            self.rates = [ctypes.c_void_p.from_buffer(argv, 8 * (11 + k)) for k in range(10)]
            self.dropped = ctypes.c_int(0)
            handle = library._lib if _IS_WINDOWS else ctypes.PyDLL(str(library.path))
            function = handle["asirikuy_run_strategy_args"]
            function.restype = _I
            self.function = function
            self.args: tuple[object, ...] = (argv, ctypes.byref(self.dropped))
            if library.has_run_forming:
                forming = handle["asirikuy_run_strategy_forming"]
                forming.restype = _I
                self.forming_function = forming
                self.forming_args = (
                    argv,
                    ctypes.c_void_p(self.forming_out.ctypes.data),
                    ctypes.c_void_p(self.forming_in.ctypes.data),
                )
            return
        function = library._lib["c_runStrategy"]  # a new function object: the declared one keeps its argtypes
        function.restype = _I
        self.function = function
        self.rates = [ctypes.c_void_p() for _ in range(10)]
        self.args = (
            ctypes.c_void_p(settings),
            *self._strings,
            ctypes.c_void_p(time_and_count),
            ctypes.c_void_p(time_and_count + 4),
            ctypes.c_void_p(orders),
            ctypes.c_void_p(account),
            ctypes.c_void_p(bid_ask),
            ctypes.c_void_p(rates_info),
            *self.rates,
            ctypes.c_void_p(results),
        )

    def set_rates(self, index: int, address: int | None) -> None:
        """Point rates slot ``index`` at ``address`` (None = NULL)."""
        self.rates[index].value = address

    def __call__(self) -> int:
        return int(self.function(*self.args))


# --- our own fast backtest API (framework/c/include/asirikuy_backtest.h), absent from the legacy library -----


class AskBtSlot(ctypes.Structure):
    """One rates slot of a backtest: the whole series plus per-bar window ends."""

    _fields_ = [
        ("bars", _P),
        ("close_time", _P),
        ("closed_end", _P),
        ("count", _I),
        ("window", _I),
        ("timeframe", _I),
        ("digits", _I),
        ("point", ctypes.c_double),
        ("same_instrument", _I),
        ("primary_points", _I),
    ]


_LL = ctypes.c_longlong
_D = ctypes.c_double


class AskBtInput(ctypes.Structure):
    """Inputs of asirikuy_backtest_run."""

    _fields_ = [
        ("settings", _D * 64),
        *[(name, _P) for name in ("time_open", "close_time", "open", "high", "low", "close", "spread")],
        ("slots", AskBtSlot * 10),
        *[(name, _LL) for name in ("contract_size_e4", "min_units_ticks", "slippage", "min_stop")],
        *[
            (name, _D)
            for name in (
                "contract_size",
                "fixed_rate",
                "initial_balance",
                "commission_per_lot",
                "swap_long",
                "swap_short",
            )
        ],
        *[
            (name, _I)
            for name in (
                "n_bars",
                "first",
                "last",
                "slot_count",
                "digits",
                "unit_precision",
                "rate_mode",
                "min_stop_widen",
            )
        ],
    ]


BT_TRADE_INT_FIELDS = (
    "ticket",
    "side",
    "order_type",
    "units_ticks",
    "open_time",
    "close_time",
    "open_price",
    "close_price",
    "stop_loss",
    "take_profit",
    "reason",
)
BT_TRADE_FLOAT_FIELDS = ("units", "pl", "commission", "swap", "profit")
BT_TRADE_DTYPE = np.dtype([(n, "<i8") for n in BT_TRADE_INT_FIELDS] + [(n, "<f8") for n in BT_TRADE_FLOAT_FIELDS])


class AskBtTrade(ctypes.Structure):
    """One closed trade (BT_TRADE_DTYPE is its numpy mirror)."""

    _fields_ = [(n, _LL) for n in BT_TRADE_INT_FIELDS] + [(n, _D) for n in BT_TRADE_FLOAT_FIELDS]


class AskBtOutput(ctypes.Structure):
    """Outputs: caller-allocated curves, library-allocated trades."""

    _fields_ = [
        ("time", _P),
        ("balance", _P),
        ("equity", _P),
        ("in_market", _P),
        ("trades", ctypes.POINTER(AskBtTrade)),
        ("trade_count", _I),
        ("bars_done", _I),
        ("rejected", _I),
        ("stopped_out", _I),
        ("dropped", _I),
        ("pad_", _I),
    ]


def _declare_backtest(lib: ctypes.CDLL) -> None:
    lib.asirikuy_backtest_run.argtypes = [ctypes.POINTER(AskBtInput), ctypes.POINTER(AskBtOutput)]
    lib.asirikuy_backtest_run.restype = _I
    if hasattr(lib, "asirikuy_backtest_run_options"):  # newer builds: ASK_BT_WINDOW_CALLS (tests)
        lib.asirikuy_backtest_run_options.argtypes = [ctypes.POINTER(AskBtInput), ctypes.POINTER(AskBtOutput), _I]
        lib.asirikuy_backtest_run_options.restype = _I
    if hasattr(lib, "asirikuy_indicator_incremental"):
        lib.asirikuy_indicator_incremental.argtypes = [_I, _P, _I, _I, ctypes.c_double, _P]
        lib.asirikuy_indicator_incremental.restype = _I
    lib.asirikuy_backtest_free.argtypes = [ctypes.POINTER(AskBtTrade)]
    lib.asirikuy_backtest_free.restype = None


def backtest_run(
    library: Library,
    *,
    settings: np.ndarray,
    arrays: dict[str, np.ndarray],
    slots: list[dict[str, object]],
    scalars: dict[str, float | int],
    out_time: np.ndarray | None,
    out_balance: np.ndarray,
    out_equity: np.ndarray,
    out_in_market: np.ndarray,
    options: int = 0,
) -> tuple[int, np.ndarray, int, int, int, int]:
    """Call asirikuy_backtest_run; return (code, trades as BT_TRADE_DTYPE, bars done, rejected, stopped out,
    dropped actions).

    ``arrays`` holds the int64 primary series, ``slots`` per slot: bars (CRATES, writable, count + 1),
    close_time (int64), closed_end (int32) and the scalar fields of AskBtSlot. Every array must stay
    alive and C-contiguous during the call (the caller keeps references).
    """
    if not library.has_backtest:
        raise FrameworkLoadError(f"{library.path} has no asirikuy_backtest_run export")
    inp = AskBtInput()
    inp.settings[:] = [float(v) for v in settings]
    for name in ("time_open", "close_time", "open", "high", "low", "close", "spread"):
        setattr(inp, name, arrays[name].ctypes.data)
    for index, slot in enumerate(slots):
        target = inp.slots[index]
        for name, value in slot.items():
            setattr(target, name, value.ctypes.data if isinstance(value, np.ndarray) else value)
    for name, value in scalars.items():
        setattr(inp, name, value)
    inp.slot_count = len(slots)
    out = AskBtOutput(
        time=None if out_time is None else out_time.ctypes.data,
        balance=out_balance.ctypes.data,
        equity=out_equity.ctypes.data,
        in_market=out_in_market.ctypes.data,
    )
    if options:  # asirikuy_backtest_run_options (ASK_BT_WINDOW_CALLS = 1: the strategy function on every window)
        code = int(library._lib.asirikuy_backtest_run_options(ctypes.byref(inp), ctypes.byref(out), options))
    else:
        code = int(library._lib.asirikuy_backtest_run(ctypes.byref(inp), ctypes.byref(out)))
    address = ctypes.cast(out.trades, ctypes.c_void_p).value
    if not out.trade_count or not address:
        if address:
            library._lib.asirikuy_backtest_free(out.trades)
        trades = np.empty(0, dtype=BT_TRADE_DTYPE)
    else:
        # The rows stay in the library's buffer (no copy: tens of thousands of 128-byte rows, fresh pages each run);
        # the buffer is freed when the last array over it goes (the ctypes array is the arrays' base).
        rows = (AskBtTrade * out.trade_count).from_address(address)
        weakref.finalize(rows, library._lib.asirikuy_backtest_free, ctypes.cast(address, ctypes.POINTER(AskBtTrade)))
        trades = np.frombuffer(rows, dtype=BT_TRADE_DTYPE)
    return code, trades, int(out.bars_done), int(out.rejected), int(out.stopped_out), int(out.dropped)
