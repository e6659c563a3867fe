"""Writing bars: one upsert for every path (import, derivation, gap filling, live feeds).

On PostgreSQL the bars go in with ``COPY … FROM STDIN (FORMAT BINARY)``, the payload built by numpy (no
Python object per bar). When the table has no bar of the series inside the new range, they are copied
straight into ``trading_bar``; otherwise into a temporary staging table and merged with
``INSERT … ON CONFLICT (instrument_id, timeframe, time) DO UPDATE``, which updates changed bars only.
Everything happens in one transaction under an advisory lock per (instrument, timeframe), and the rolling
window cache of the series is invalidated after commit. SQLite uses ``bulk_create(update_conflicts=True)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from django.db import connection, transaction
from psycopg.copy import QueuedLibpqWriter

from trading.bars.cache import bars_cache_invalidate
from trading.bars.timeframes import BAR_DTYPE

_PG_EPOCH_OFFSET = 946684800  # 2000-01-01 in Unix seconds: PostgreSQL's timestamp epoch
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
_COPY_TRAILER = b"\xff\xff"
_CHUNK = 100_000
_ANALYZE_AFTER = 100_000
_COLUMNS = ("time", "open", "high", "low", "close", "volume", "spread", "complete")
_FIELD_TYPES = {
    "instrument_id": ">i8",
    "timeframe": ">i4",
    "time": ">i8",
    "open": ">i8",
    "high": ">i8",
    "low": ">i8",
    "close": ">i8",
    "volume": ">i8",
    "spread": ">i4",
    "complete": "?",
}


@dataclass(frozen=True)
class BarRow:
    """One bar to store; prices in integer points of the instrument, ``time`` the UTC open time."""

    time: datetime
    open: int
    high: int
    low: int
    close: int
    volume: int = 0
    spread: int | None = None
    complete: bool = True


@dataclass(frozen=True)
class UpsertReport:
    rows: int
    inserted: int
    updated: int
    unchanged: int


def bars_to_array(bars: np.ndarray | Iterable[BarRow]) -> np.ndarray:
    """Accept a BAR_DTYPE array or BarRow objects; return a BAR_DTYPE array sorted by time."""
    if isinstance(bars, np.ndarray):
        array = bars.astype(BAR_DTYPE, copy=False)
    else:
        rows = list(bars)
        array = np.empty(len(rows), dtype=BAR_DTYPE)
        for i, row in enumerate(rows):
            if row.time.tzinfo is None:
                raise ValueError(f"bar time {row.time!r} is naive; bars are stored in UTC")
            array[i] = (
                int(row.time.timestamp()),
                row.open,
                row.high,
                row.low,
                row.close,
                row.volume,
                -1 if row.spread is None else row.spread,
                row.complete,
            )
    order = np.argsort(array["time"], kind="stable")
    array = array[order]
    if len(array) > 1 and (np.diff(array["time"]) == 0).any():
        raise ValueError("bars to store contain the same time twice")
    return array


Progress = Callable[[int, int], None]  # (bars written, bars in all)


def bars_upsert(
    *, instrument_id: int, timeframe: int, bars: np.ndarray | Iterable[BarRow], progress: Progress | None = None
) -> UpsertReport:
    """Insert new bars and update changed ones of one series, in one transaction; invalidate its cache.

    ``progress(done, total)`` is called as the COPY stream goes out, every ``_CHUNK`` bars (other databases:
    once, at the end).
    """
    array = bars_to_array(bars)
    if len(array) == 0:
        return UpsertReport(rows=0, inserted=0, updated=0, unchanged=0)
    if connection.vendor == "postgresql":
        chunks = (array[start : start + _CHUNK] for start in range(0, len(array), _CHUNK))
        return bars_upsert_stream(
            instrument_id=instrument_id,
            timeframe=timeframe,
            first=int(array["time"][0]),
            last=int(array["time"][-1]),
            count=len(array),
            chunks=chunks,
            progress=progress,
        )
    with transaction.atomic():
        inserted, updated = _upsert_generic(instrument_id, timeframe, array)
        bars_cache_invalidate(instrument_id=instrument_id, timeframe=timeframe)
    if progress:
        progress(len(array), len(array))
    return UpsertReport(rows=len(array), inserted=inserted, updated=updated, unchanged=len(array) - inserted - updated)


def bars_upsert_stream(
    *,
    instrument_id: int,
    timeframe: int,
    first: int,
    last: int,
    count: int,
    chunks: Iterable[np.ndarray],
    progress: Progress | None = None,
) -> UpsertReport:
    """:func:`bars_upsert` of bars that arrive in chunks (PostgreSQL): each chunk goes out on the COPY stream
    as soon as it is made, so the caller's parsing overlaps the server's inserting.

    ``chunks`` yields BAR_DTYPE arrays, each strictly increasing in time and later than the one before, from
    ``first`` to ``last`` (UTC epoch seconds); ``count`` is the expected number of bars, for ``progress``
    only. An exception raised by ``chunks`` aborts the COPY and rolls the whole upsert back.
    """
    with transaction.atomic():
        rows, inserted, updated = _upsert_pg(instrument_id, timeframe, first, last, count, iter(chunks), progress)
        bars_cache_invalidate(instrument_id=instrument_id, timeframe=timeframe)
    return UpsertReport(rows=rows, inserted=inserted, updated=updated, unchanged=rows - inserted - updated)


def _copy_payload(fields: dict[str, np.ndarray | int], count: int, nulls: tuple[str, ...] = ()) -> np.ndarray:
    """Rows of a COPY BINARY stream (without header/trailer) as one structured array; ``nulls`` are NULL."""
    spec: list[tuple[str, str]] = [("n", ">i2")]
    for name in fields:
        spec += [(f"len_{name}", ">i4")] if name in nulls else [(f"len_{name}", ">i4"), (name, _FIELD_TYPES[name])]
    rows = np.empty(count, dtype=np.dtype(spec))
    rows["n"] = len(fields)
    for name, values in fields.items():
        if name in nulls:
            rows[f"len_{name}"] = -1
            continue
        rows[f"len_{name}"] = np.dtype(_FIELD_TYPES[name]).itemsize
        rows[name] = values
    return rows


def _chunk_payloads(chunk: np.ndarray, extra: dict[str, int]) -> list[np.ndarray]:
    """COPY rows of a chunk of bars: those with a spread and those without (NULL), in either order."""
    known = chunk["spread"] >= 0
    payloads = []
    for mask in (known, ~known):
        if not mask.any():
            continue
        part = chunk if mask.all() else chunk[mask]
        fields: dict[str, np.ndarray | int] = dict(extra)
        fields["time"] = (part["time"] - _PG_EPOCH_OFFSET) * 1_000_000
        for name in ("open", "high", "low", "close", "volume", "spread", "complete"):
            fields[name] = part[name]
        payloads.append(_copy_payload(fields, len(part), nulls=() if mask is known else ("spread",)))
    return payloads


def _copy_chunks(
    cursor, table: str, chunks: Iterator[np.ndarray], extra: dict[str, int], count: int, progress: Progress | None
) -> int:
    """COPY the bars of ``chunks`` into ``table`` in one stream; return how many there were."""
    columns = ", ".join([*extra, *_COLUMNS])
    done = 0
    # The queued writer sends from a worker thread, so the next chunk is made while the last one goes out;
    # small upserts (live bars) don't need the thread.
    writer = QueuedLibpqWriter(cursor) if count > _CHUNK else None
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)", writer=writer) as copy:
        copy.write(_COPY_HEADER)
        for chunk in chunks:
            for payload in _chunk_payloads(chunk, extra):
                copy.write(payload.view(np.uint8).data)
            done += len(chunk)
            if progress:
                progress(done, max(count, done))
        copy.write(_COPY_TRAILER)
    return done


def _ensure_statistics(cursor) -> None:
    """Give the planner column statistics for ``trading_bar`` if it has none yet.

    Without any (a fresh database after its first big import) the planner multiplies default selectivities,
    expects a handful of rows and reads a series by bitmap scan and sort instead of the primary-key index.
    Stale statistics do no such harm (measured: bars of a new instrument or a new range still read through
    the index), and autovacuum refreshes them, so later imports skip the ANALYZE. The first one samples 3,000
    rows instead of 30,000 (statistics target 10), which is enough to pick the index and ~10x cheaper;
    autovacuum analyzes again at the full target once its change threshold is crossed.
    """
    cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_stats WHERE schemaname = current_schema() "
        "AND tablename = 'trading_bar' AND attname = 'instrument_id')"
    )
    if cursor.fetchone()[0]:
        return
    cursor.execute("SET LOCAL default_statistics_target = 10")
    cursor.execute("ANALYZE trading_bar")
    cursor.execute("SET LOCAL default_statistics_target TO DEFAULT")


def _upsert_pg(
    instrument_id: int,
    timeframe: int,
    first_second: int,
    last_second: int,
    count: int,
    chunks: Iterator[np.ndarray],
    progress: Progress | None = None,
) -> tuple[int, int, int]:
    first = datetime.fromtimestamp(first_second, tz=UTC)
    last = datetime.fromtimestamp(last_second, tz=UTC)
    raw = connection.connection
    with raw.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [int(instrument_id), int(timeframe)])
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM trading_bar WHERE instrument_id = %s AND timeframe = %s "
            "AND time BETWEEN %s AND %s)",
            [instrument_id, timeframe, first, last],
        )
        overlap = cursor.fetchone()[0]
        if not overlap:
            rows = _copy_chunks(
                cursor, "trading_bar", chunks, {"instrument_id": instrument_id, "timeframe": timeframe}, count, progress
            )
            if rows >= _ANALYZE_AFTER:
                _ensure_statistics(cursor)
            return rows, rows, 0
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS bars_stage (time timestamptz NOT NULL, open int8, high int8, "
            "low int8, close int8, volume int8, spread int4, complete bool) ON COMMIT DELETE ROWS"
        )
        cursor.execute("TRUNCATE bars_stage")
        rows = _copy_chunks(cursor, "bars_stage", chunks, {}, count, progress)
        cursor.execute(
            """
            WITH merged AS (
                INSERT INTO trading_bar (instrument_id, timeframe, time, open, high, low, close, volume, spread,
                                         complete)
                SELECT %(iid)s, %(tf)s, time, open, high, low, close, volume, spread, complete FROM bars_stage
                ON CONFLICT (instrument_id, timeframe, time) DO UPDATE SET
                    open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
                    volume = EXCLUDED.volume, spread = EXCLUDED.spread, complete = EXCLUDED.complete
                WHERE (trading_bar.open, trading_bar.high, trading_bar.low, trading_bar.close, trading_bar.volume,
                       trading_bar.spread, trading_bar.complete)
                      IS DISTINCT FROM
                      (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close, EXCLUDED.volume,
                       EXCLUDED.spread, EXCLUDED.complete)
                RETURNING (xmax = 0) AS inserted
            )
            SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM merged
            """,
            {"iid": instrument_id, "tf": timeframe},
        )
        inserted, updated = cursor.fetchone()
    return rows, int(inserted), int(updated)


def _upsert_generic(instrument_id: int, timeframe: int, array: np.ndarray) -> tuple[int, int]:
    from trading.models import Bar

    first = datetime.fromtimestamp(int(array["time"][0]), tz=UTC)
    last = datetime.fromtimestamp(int(array["time"][-1]), tz=UTC)
    existing = {
        int(row[0].timestamp()): row[1:]
        for row in Bar.objects.filter(instrument_id=instrument_id, timeframe=timeframe, time__range=(first, last))
        .values_list("time", "open", "high", "low", "close", "volume", "spread", "complete")
        .iterator()
    }
    inserted = updated = 0
    objects = []
    for row in array.tolist():
        t, o, h, lo, c, v, spread, complete = row
        spread = None if spread < 0 else spread
        values = (o, h, lo, c, v, spread, bool(complete))
        old = existing.get(t)
        if old is None:
            inserted += 1
        elif tuple(old) != values:
            updated += 1
        else:
            continue
        objects.append(
            Bar(
                instrument_id=instrument_id,
                timeframe=timeframe,
                time=datetime.fromtimestamp(t, tz=UTC),
                open=o,
                high=h,
                low=lo,
                close=c,
                volume=v,
                spread=spread,
                complete=bool(complete),
            )
        )
    Bar.objects.bulk_create(
        objects,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["instrument", "timeframe", "time"],
        update_fields=["open", "high", "low", "close", "volume", "spread", "complete"],
    )
    return inserted, updated
