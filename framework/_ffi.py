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
        self.has_indicator = hasattr(lib, "asirikuy_indicator")
        if self.has_indicator:
            lib.asirikuy_indicator.argtypes = [_I, _P, _I, _I, ctypes.c_double, _P]
            lib.asirikuy_indicator.restype = _I

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
        strings = (
            self._cstr(symbol),
            self._cstr(account_currency, 16),
            self._cstr(broker_name),
            self._cstr(ref_broker_name),
        )
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
        for text, (buf, raw) in zip(texts, strings, strict=True):
            if buf is not None and buf.value != raw:  # type: ignore[attr-defined]
                self._strings.buffers.pop(text, None)  # type: ignore[arg-type]
        return int(code)

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
