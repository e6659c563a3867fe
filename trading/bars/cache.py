"""Rolling window cache of the newest complete bars per (instrument, timeframe, broker time zone).

One cache entry holds the newest :data:`WINDOW` complete bars as raw bytes: an 8-byte count, the CRATES
array (48 bytes a bar) and the bars' UTC open times (int64), so a hit is one cache get and two
``np.frombuffer`` calls. The cache is Django's default cache (Redis in production, files when embedded).

Writers call :func:`bars_cache_invalidate` after their transaction commits (``bars_upsert`` does), which
deletes the entries of every broker time zone for that (instrument, timeframe). Entries also expire after
:data:`TTL_SECONDS`, which bounds the damage of a reader that filled the cache from a snapshot taken just
before a writer committed.
"""

from __future__ import annotations

import numpy as np
from django.core.cache import cache
from django.db import transaction

from trading.bars.brokertime import BROKER_TIMEZONES

WINDOW = 2000
TTL_SECONDS = 300
_HEADER = np.dtype("<i8")


def cache_key(instrument_id: int, timeframe: int, broker_tz: str) -> str:
    return f"bars:window:v1:{instrument_id}:{timeframe}:{broker_tz}"


def window_pack(crates: np.ndarray, utc_times: np.ndarray) -> bytes:
    """Serialise a window: count, CRATES bytes, UTC int64 times."""
    count = np.asarray([len(crates)], dtype=_HEADER)
    return count.tobytes() + np.ascontiguousarray(crates).tobytes() + utc_times.astype("<i8").tobytes()


def window_unpack(blob: bytes, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`window_pack`; the arrays are read-only views of ``blob``."""
    count = int(np.frombuffer(blob, dtype=_HEADER, count=1)[0])
    offset = _HEADER.itemsize
    crates = np.frombuffer(blob, dtype=dtype, count=count, offset=offset)
    times = np.frombuffer(blob, dtype="<i8", count=count, offset=offset + count * dtype.itemsize)
    return crates, times


def window_get(instrument_id: int, timeframe: int, broker_tz: str) -> bytes | None:
    return cache.get(cache_key(instrument_id, timeframe, broker_tz))


def window_set(instrument_id: int, timeframe: int, broker_tz: str, blob: bytes) -> None:
    cache.set(cache_key(instrument_id, timeframe, broker_tz), blob, TTL_SECONDS)


def bars_cache_invalidate(*, instrument_id: int, timeframe: int) -> None:
    """Drop the cached windows of (instrument, timeframe) once the current transaction commits."""
    keys = [cache_key(instrument_id, timeframe, name) for name in BROKER_TIMEZONES]
    transaction.on_commit(lambda: cache.delete_many(keys))
