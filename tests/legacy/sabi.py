"""The second ABI library of the tests (second_abi/second_abi.c): build it, and read back what it recorded."""

from __future__ import annotations

import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from framework.types import CRATES_DTYPE, ORDER_INFO_DTYPE, RATES_INFO_DTYPE

SOURCE = Path(__file__).resolve().parent / "second_abi" / "second_abi.c"
SABI_TRENDS = 29  # reads slots 0..5 (AutoBBS-like)
SABI_SINGLE = 7  # reads slot 0
SABI_RECORD = 19
SABI_SEGFAULT, SABI_ABORT, SABI_HANG = 666, 667, 668
# the 44 meaningful bytes of a CRates, as the library records them
BAR44 = np.dtype(
    [("open", "<f8"), ("high", "<f8"), ("low", "<f8"), ("close", "<f8"), ("volume", "<f8"), ("time", "<i4")]
)
_HEAD = struct.Struct("<4s6i16s16s48s48s")


def build(out_dir: Path) -> Path:
    """Compile the library with the system C compiler into ``out_dir``."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise RuntimeError("no C compiler (cc) to build the second ABI library")
    target = out_dir / "libsecond_abi.so"
    subprocess.run(
        [
            compiler,
            "-std=c11",
            "-O1",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-shared",
            "-fPIC",
            "-o",
            str(target),
            str(SOURCE),
        ],
        check=True,
        capture_output=True,
    )
    return target


@dataclass
class SabiCall:
    """One recorded c_runStrategy call."""

    call: int
    strategy: int
    current_time: int
    open_count: int
    orders_passed: int
    is_testing: int
    symbol: str
    currency: str
    broker: str
    ref_broker: str
    settings: np.ndarray
    rates_info: np.ndarray
    account: np.ndarray
    bid_ask: np.ndarray
    orders: np.ndarray
    slots: dict[int, np.ndarray]


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode()


def read_calls(path: Path) -> list[SabiCall]:
    """Every call recorded in ``<temp>/<id>.calls`` (empty when the file does not exist)."""
    if not path.exists():
        return []
    data = memoryview(path.read_bytes())
    calls, at = [], 0
    while at < len(data):
        magic, call, strategy, now, open_count, orders_passed, testing, sym, cur, brk, ref = _HEAD.unpack_from(data, at)
        assert magic == b"SABI", f"bad record at {at}"
        at += _HEAD.size

        def take(dtype: np.dtype | str, count: int) -> np.ndarray:
            nonlocal at
            array = np.frombuffer(data, dtype=dtype, count=count, offset=at).copy()
            at += array.nbytes
            return array

        settings = take("<f8", 64)
        rates_info = take(RATES_INFO_DTYPE, 10)
        account = take("<f8", 10)
        bid_ask = take("<f8", 6)
        orders = take(ORDER_INFO_DTYPE, max(orders_passed, 0))
        slots: dict[int, np.ndarray] = {}
        while True:
            (slot,) = struct.unpack_from("<i", data, at)
            at += 4
            if slot < 0:
                break
            (n,) = struct.unpack_from("<i", data, at)
            at += 4
            slots[slot] = take(BAR44, n)
        calls.append(
            SabiCall(
                call,
                strategy,
                now,
                open_count,
                orders_passed,
                testing,
                _text(sym),
                _text(cur),
                _text(brk),
                _text(ref),
                settings,
                rates_info,
                account,
                bid_ask,
                orders,
                slots,
            )
        )
    return calls


def as_bar44(rates: np.ndarray) -> np.ndarray:
    """A CRATES array's bars as the library records them (the 4 padding bytes left out)."""
    assert rates.dtype == CRATES_DTYPE
    out = np.zeros(len(rates), dtype=BAR44)
    for name in BAR44.names or ():
        out[name] = rates[name]
    return out
