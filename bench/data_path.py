"""Benchmark of the market data path (issue #5): import rate, read rate and cached-window latency,
each beside a naive baseline measured in the same run.

Needs PostgreSQL and Redis. Run it against throw-away services, e.g. the ones ``scripts/test.sh`` starts,
or any database you can write to (it creates and deletes its own instrument ``BENCHDATA``)::

    ASIRIKUY_MODE=production DATABASE_URL=postgresql://user@127.0.0.1:5432/db REDIS_URL=redis://127.0.0.1:6379/0 \\
    DJANGO_SECRET_KEY=bench ASIRIKUY_TOKEN_KEYS=$(python -c 'from cryptography.fernet import Fernet; \\
    print(Fernet.generate_key().decode())') .venv/bin/python bench/data_path.py [--bars 1000000]

It runs ``migrate`` first. Baselines: row-by-row ORM ``Bar.objects.create`` on a small sample
(extrapolated to the full size, and labelled so), and ORM iteration of model instances into numpy.
Two further comparisons are measured in the same run: the read query as it was before (its aggregate
sorted the rows again), and the COPY of the parsed bars split over two connections in parallel (which the
store does not do: two transactions cannot make one import all-or-nothing).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "asirikuy_site.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import psycopg  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from trading.bars import formats  # noqa: E402
from trading.bars.importing import _fast_bars, bars_import  # noqa: E402
from trading.bars.read import bars_as_crates, pg_query  # noqa: E402
from trading.bars.store import _copy_chunks, bars_upsert  # noqa: E402
from trading.bars.validation import build_bars  # noqa: E402
from trading.models import Bar, Instrument  # noqa: E402

SYMBOL = "BENCHDATA"


def write_csv(path: Path, count: int) -> None:
    """Synthetic EURUSD-like M1 bars, MT4 export layout, weekends included (the format does not care)."""
    rng = np.random.default_rng(5)
    start = int(datetime(2020, 1, 1, tzinfo=UTC).timestamp())
    times = (start + np.arange(count) * 60).astype("datetime64[s]")
    close = 110000 + np.cumsum(rng.integers(-8, 9, count))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) + rng.integers(0, 6, count)
    low = np.minimum(open_, close) - rng.integers(0, 6, count)
    volume = rng.integers(1, 500, count)
    stamp = np.datetime_as_string(times, unit="m")
    with path.open("w") as out:
        for t, o, h, lo, c, v in zip(
            stamp.tolist(), open_.tolist(), high.tolist(), low.tolist(), close.tolist(), volume.tolist(), strict=True
        ):
            out.write(
                f"{t[:4]}.{t[5:7]}.{t[8:10]},{t[11:16]},{o / 1e5:.5f},{h / 1e5:.5f},{lo / 1e5:.5f},{c / 1e5:.5f},{v}\n"
            )


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def copy_seconds(array: np.ndarray, instrument_id: int, timeframe: int, connections: int) -> float:
    """Wall time of COPYing ``array`` into ``trading_bar`` split over ``connections`` parallel connections,
    each in its own transaction (committed, without waiting for the WAL flush, as the import does)."""
    url = os.environ["DATABASE_URL"]
    parts = np.array_split(array, connections)
    conns = [psycopg.connect(url) for _ in parts]
    for conn in conns:
        conn.execute("SET synchronous_commit = off")

    def one(conn: psycopg.Connection, part: np.ndarray) -> None:
        chunks = (part[i : i + 100_000] for i in range(0, len(part), 100_000))
        with conn.cursor() as cursor:
            _copy_chunks(
                cursor, "trading_bar", chunks, {"instrument_id": instrument_id, "timeframe": timeframe}, len(part), None
            )
        conn.commit()

    t = time.perf_counter()
    threads = [threading.Thread(target=one, args=(conn, part)) for conn, part in zip(conns, parts, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - t
    for conn in conns:
        conn.close()
    return elapsed


def read_query(instrument_id: int, count: int, *, resort: bool) -> bytes:
    """The read query alone; ``resort`` as it was before: its aggregate sorted the (already ordered) rows again."""
    sql, params = pg_query(instrument_id, 1, count=count)
    if resort:
        sql = sql.replace("''::bytea)", "''::bytea ORDER BY b.time DESC)", 1)
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, binary=True)
        row = cursor.fetchone()
        assert row is not None, "the read query returns one row"
        return row[0]


def summary(values: list[float], count: int) -> str:
    median = statistics.median(values)
    return f"median {median * 1e3:.0f} ms (min {min(values) * 1e3:.0f}) = {count / median:,.0f} bars/s"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--naive-sample", type=int, default=2_000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    Instrument.objects.filter(symbol=SYMBOL).delete()
    instrument = Instrument.objects.create(symbol=SYMBOL, base_currency="EUR", quote_currency="USD", digits=5)
    rows: list[tuple[str, str, str]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "EURUSD1.csv"
            write_csv(path, args.bars)
            t = time.perf_counter()
            report = bars_import(
                source=path, fmt="metatrader", instrument=instrument, timeframe=1, on_error="stop", source_tz="UTC"
            )
            elapsed = time.perf_counter() - t
            assert report.inserted == args.bars, report.summary()
            text = path.read_text()
            t = time.perf_counter()
            report = bars_import(
                source=path, fmt="metatrader", instrument=instrument, timeframe=1, on_error="stop", source_tz="UTC"
            )
            again = time.perf_counter() - t
        # Naive: one ORM INSERT per bar, on a sample in another timeframe, extrapolated.
        sample = Bar.objects.filter(instrument=instrument, timeframe=1).order_by("time")[: args.naive_sample]
        values = list(sample.values_list("time", "open", "high", "low", "close", "volume"))
        t = time.perf_counter()
        for tm, o, h, lo, c, v in values:
            Bar.objects.create(instrument=instrument, timeframe=5, time=tm, open=o, high=h, low=lo, close=c, volume=v)
        naive = (time.perf_counter() - t) / len(values) * args.bars
        rows.append(
            (
                f"import {args.bars:,} M1 bars (CSV parse + validate + COPY)",
                f"{elapsed:.2f} s = {args.bars / elapsed:,.0f} bars/s",
                f"row-by-row ORM insert: {naive:.0f} s (extrapolated from {len(values):,} rows)",
            )
        )
        rows.append(
            (
                f"re-import the same {args.bars:,} (all conflicts, staging + ON CONFLICT)",
                f"{again:.2f} s ({report.unchanged:,} unchanged)",
                "",
            )
        )
        # Stages of the import, without the database: the vectorised parse against the per-line one, and the
        # upsert of the parsed bars into a fresh series (timeframe 15: nothing there yet).
        t = time.perf_counter()
        parsed = _fast_bars(
            text,
            fmt="metatrader",
            file=str(path),
            instrument=instrument,
            timeframe=1,
            align_tz="OANDA",
            source_tz="UTC",
        )
        fast_parse = time.perf_counter() - t
        assert parsed is not None
        t = time.perf_counter()
        _, raw = formats.parse(text, fmt="metatrader", file=str(path), source_tz="UTC")
        slow_bars, _, _, _ = build_bars(raw, digits=instrument.digits, timeframe=1, align_tz="OANDA")
        slow_parse = time.perf_counter() - t
        assert parsed[1].tobytes() == slow_bars.tobytes()
        del raw, slow_bars
        t = time.perf_counter()
        bars_upsert(instrument_id=instrument.id, timeframe=15, bars=parsed[1])
        upsert = time.perf_counter() - t
        rows.append(
            (
                "  stages: parse + validate (no database)",
                f"{fast_parse:.2f} s vectorised (equal arrays)",
                f"per-line path: {slow_parse:.2f} s",
            )
        )
        rows.append(("  stages: bars_upsert of the parsed array (COPY into a new series)", f"{upsert:.2f} s", ""))
        one = copy_seconds(parsed[1], instrument.id, 30, 1)
        two = copy_seconds(parsed[1], instrument.id, 60, 2)
        rows.append(
            (
                "  stages: bare COPY, 1 connection vs 2 in parallel (not atomic)",
                f"1: {one:.2f} s",
                f"2 in parallel: {two:.2f} s ({one / two:.2f}x)",
            )
        )

        # The table has just taken ~5M written rows; autovacuum would now vacuum and analyse it while the reads
        # below run, on the same two cores. Do that work first, on the clock and printed, so the reads measure a
        # settled table (as a live bar close sees it), not a race with autovacuum.
        t = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) trading_bar")
        rows.append(
            (
                "  settle: VACUUM (ANALYZE) trading_bar after the writes above",
                f"{time.perf_counter() - t:.2f} s",
                "(autovacuum's job; done before the reads so they do not race it)",
            )
        )
        n = min(100_000, args.bars)
        # The full read and the query alone are timed in turns, so a slow spell of the shared machine hits both.
        fast, query_now = [], []
        for _ in range(9):
            fast += timed(lambda: bars_as_crates(instrument_id=instrument.id, timeframe=1, count=n, use_cache=False), 1)
            query_now += timed(lambda: read_query(instrument.id, n, resort=False), 1)

        def orm() -> np.ndarray:
            bars = list(Bar.objects.filter(instrument=instrument, timeframe=1, complete=True).order_by("-time")[:n])
            return np.array(
                [
                    (b.open / 1e5, b.high / 1e5, b.low / 1e5, b.close / 1e5, float(b.volume), int(b.time.timestamp()))
                    for b in reversed(bars)
                ]
            )

        slow = timed(orm, 3)
        query_before = timed(lambda: read_query(instrument.id, n, resort=True), 7)
        rows.append(
            (
                f"read {n:,} bars into CRATES numpy",
                summary(fast, n),
                f"ORM model iteration: {summary(slow, n)} ({statistics.median(slow) / statistics.median(fast):.0f}x)",
            )
        )
        rows.append(
            (
                "  the query alone (no decoding)",
                summary(query_now, n),
                f"as before, aggregate sorting again: {summary(query_before, n)}",
            )
        )

        bars_as_crates(instrument_id=instrument.id, timeframe=1, count=1000)  # fill the window
        cached = timed(lambda: bars_as_crates(instrument_id=instrument.id, timeframe=1, count=1000), 1000)
        uncached = timed(
            lambda: bars_as_crates(instrument_id=instrument.id, timeframe=1, count=1000, use_cache=False), 200
        )
        rows.append(
            (
                "1,000-bar window",
                f"cached p50 {pct(cached, 50) * 1e3:.2f} ms, p99 {pct(cached, 99) * 1e3:.2f} ms",
                f"uncached read p50 {pct(uncached, 50) * 1e3:.2f} ms, p99 {pct(uncached, 99) * 1e3:.2f} ms",
            )
        )
    finally:
        Instrument.objects.filter(symbol=SYMBOL).delete()
    width = max(len(r[0]) for r in rows)
    for what, ours, baseline in rows:
        print(f"{what:<{width}}  {ours:<44}  {baseline}")


if __name__ == "__main__":
    main()
