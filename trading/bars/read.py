"""Fast read path: bars straight from the database into the numpy arrays the framework binding takes.

One query per call. On PostgreSQL the rows come as ``COPY (SELECT …) TO STDOUT (FORMAT BINARY)`` and are
decoded with one ``np.frombuffer`` (no Python object per bar); the integer points are divided by
10**digits in the same query, and bar times become broker wall-clock seconds in
:func:`trading.bars.brokertime.framework_times`. On SQLite a plain cursor is used.

Only complete bars are returned: the framework's "current bar" is built by the caller from live prices.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

import numpy as np
from django.db import connection

from trading.bars import cache as bars_cache
from trading.bars.brokertime import broker_timezone, framework_times

# CRates (research/asirikuy-abi.md §2.1): five doubles, the open time as int32, 4 bytes of padding.
CRATES_DTYPE = np.dtype(
    {
        "names": ["open", "high", "low", "close", "volume", "time"],
        "formats": ["<f8", "<f8", "<f8", "<f8", "<f8", "<i4"],
        "offsets": [0, 8, 16, 24, 32, 40],
        "itemsize": 48,
    }
)

_PG_HEADER = 19  # "PGCOPY\n\377\r\n\0" + int32 flags + int32 header extension length (0)
_PG_ROW = np.dtype(
    [
        ("n", ">i2"),
        ("l0", ">i4"), ("time", ">i8"),
        ("l1", ">i4"), ("open", ">f8"),
        ("l2", ">i4"), ("high", ">f8"),
        ("l3", ">i4"), ("low", ">f8"),
        ("l4", ">i4"), ("close", ">f8"),
        ("l5", ">i4"), ("volume", ">f8"),
    ]
)


class BarArrays(NamedTuple):
    """Bars as columns: ``time`` is the UTC open time (datetime64[s]); prices are floats."""

    time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{value!r} is naive; pass an aware UTC datetime")
    return value.astimezone(UTC)


def _fetch_pg(sql: str) -> np.ndarray:
    connection.ensure_connection()
    with connection.connection.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT BINARY)") as copy:
        payload = b"".join(copy)
    body = len(payload) - _PG_HEADER - 2
    if body % _PG_ROW.itemsize:
        raise RuntimeError(f"unexpected COPY BINARY payload of {len(payload)} bytes")
    return np.frombuffer(payload, dtype=_PG_ROW, count=body // _PG_ROW.itemsize, offset=_PG_HEADER)


def _select_sql(instrument_id: int, timeframe: int, *, start: datetime | None, end: datetime | None,
                count: int | None) -> str:
    """The one SELECT behind every read; newest first when ``count`` limits it."""
    from psycopg import sql

    where = [
        sql.SQL("instrument_id = {}").format(sql.Literal(int(instrument_id))),
        sql.SQL("timeframe = {}").format(sql.Literal(int(timeframe))),
        sql.SQL("complete"),
    ]
    if start is not None:
        where.append(sql.SQL("time >= {}").format(sql.Literal(_as_utc(start))))
    if end is not None:
        where.append(sql.SQL("time <= {}").format(sql.Literal(_as_utc(end))))
    order = sql.SQL("DESC" if count is not None else "ASC")
    limit = sql.SQL("LIMIT {}").format(sql.Literal(int(count))) if count is not None else sql.SQL("")
    query = sql.SQL(
        "SELECT extract(epoch FROM b.time)::int8, b.open / s.scale, b.high / s.scale, b.low / s.scale, "
        "b.close / s.scale, b.volume::float8 "
        "FROM (SELECT time, open, high, low, close, volume FROM trading_bar WHERE {where} "
        "ORDER BY time {order} {limit}) b, "
        "(SELECT power(10::float8, digits) AS scale FROM trading_instrument WHERE id = {iid}) s "
        "ORDER BY b.time {order}"
    ).format(where=sql.SQL(" AND ").join(where), order=order, limit=limit, iid=sql.Literal(int(instrument_id)))
    return query.as_string(connection.connection)


def _fetch_sqlite(instrument_id: int, timeframe: int, *, start: datetime | None, end: datetime | None,
                  count: int | None) -> np.ndarray:
    from trading.models import Bar

    rows = Bar.objects.filter(instrument_id=instrument_id, timeframe=timeframe, complete=True)
    if start is not None:
        rows = rows.filter(time__gte=_as_utc(start))
    if end is not None:
        rows = rows.filter(time__lte=_as_utc(end))
    rows = rows.order_by("-time" if count is not None else "time")
    if count is not None:
        rows = rows[:count]
    values = list(rows.values_list("time", "open", "high", "low", "close", "volume", "instrument__digits"))
    out = np.empty(len(values), dtype=[(n, "<i8" if n == "time" else "<f8") for n in _PG_ROW.names[2::2]])
    if values:
        scale = 10.0 ** values[0][6]
        out["time"] = [int(v[0].timestamp()) for v in values]
        for i, name in enumerate(("open", "high", "low", "close"), start=1):
            out[name] = np.asarray([v[i] for v in values], dtype=np.float64) / scale
        out["volume"] = [v[5] for v in values]
    return out


def _fetch(instrument_id: int, timeframe: int, *, start: datetime | None = None, end: datetime | None = None,
           count: int | None = None) -> np.ndarray:
    """Rows ordered oldest first (newest ``count`` if given), fields time (UTC s), open..volume."""
    if count is not None and count <= 0:
        return np.empty(0, dtype=_PG_ROW)
    if connection.vendor == "postgresql":
        rows = _fetch_pg(_select_sql(instrument_id, timeframe, start=start, end=end, count=count))
    else:
        rows = _fetch_sqlite(instrument_id, timeframe, start=start, end=end, count=count)
    return rows[::-1] if count is not None else rows


def _to_crates(rows: np.ndarray, broker_tz: str) -> np.ndarray:
    crates = np.zeros(len(rows), dtype=CRATES_DTYPE)
    for name in ("open", "high", "low", "close", "volume"):
        crates[name] = rows[name]
    crates["time"] = framework_times(rows["time"], broker_tz)
    return crates


def bars_as_crates(*, instrument_id: int, timeframe: int, count: int, end: datetime | None = None,
                   broker_tz: str = "UTC", use_cache: bool = True) -> np.ndarray:
    """Return the last ``count`` complete bars opened at or before ``end`` as a CRATES array, oldest first."""
    broker_timezone(broker_tz)  # unknown names fail before any query
    if use_cache and count <= bars_cache.WINDOW:
        hit = _from_cache(instrument_id, timeframe, count, end, broker_tz)
        if hit is not None:
            return hit
    rows = _fetch(instrument_id, timeframe, end=end, count=count)
    return _to_crates(rows, broker_tz)


def _from_cache(instrument_id: int, timeframe: int, count: int, end: datetime | None,
                broker_tz: str) -> np.ndarray | None:
    blob = bars_cache.window_get(instrument_id, timeframe, broker_tz)
    if blob is None:
        rows = _fetch(instrument_id, timeframe, count=bars_cache.WINDOW)
        crates = _to_crates(rows, broker_tz)
        utc = np.ascontiguousarray(rows["time"], dtype=np.int64)
        bars_cache.window_set(instrument_id, timeframe, broker_tz, bars_cache.window_pack(crates, utc))
    else:
        crates, utc = bars_cache.window_unpack(blob, CRATES_DTYPE)
    stop = len(crates)
    if end is not None:
        stop = int(np.searchsorted(utc, int(_as_utc(end).timestamp()), side="right"))
    full_window = len(crates) >= bars_cache.WINDOW
    if full_window and stop < count:
        return None  # the window does not reach back far enough: read from the database
    return _copy(crates[max(stop - count, 0):stop])


def _copy(crates: np.ndarray) -> np.ndarray:
    """A writable C-contiguous copy, byte for byte (padding included, unlike a field-wise ``np.array``)."""
    return np.frombuffer(bytearray(np.ascontiguousarray(crates).data), dtype=CRATES_DTYPE)


def bars_as_arrays(*, instrument_id: int, timeframe: int, start: datetime | None = None,
                   end: datetime | None = None, count: int | None = None) -> BarArrays:
    """Return complete bars in [start, end] (or the last ``count`` up to ``end``) as columns with UTC times."""
    rows = _fetch(instrument_id, timeframe, start=start, end=end, count=count)
    return BarArrays(
        time=rows["time"].astype("datetime64[s]"),
        open=rows["open"].astype(np.float64),
        high=rows["high"].astype(np.float64),
        low=rows["low"].astype(np.float64),
        close=rows["close"].astype(np.float64),
        volume=rows["volume"].astype(np.float64),
    )
