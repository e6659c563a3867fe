"""Migration 0008 (bar primary key = instrument, timeframe, time) on a database that already holds bars.

Each test migrates a database of its own (a scratch PostgreSQL database on the test server, a fresh SQLite
file) with ``manage.py migrate`` in a subprocess, as an operator would, so the test database is untouched.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[3]
BEFORE, AFTER = "0007_virtual_orders", "0008_bar_natural_primary_key"
COLUMNS = "instrument_id, timeframe, time, open, high, low, close, volume, spread, complete"
BARS = [
    (7, 1, "2024-01-02 00:00:00", 110000, 110010, 109990, 110005, 3, None, True),
    (7, 1, "2024-01-02 00:01:00", 110005, 110011, 109995, 110006, 4, 2, False),
    (7, 60, "2024-01-02 00:00:00", 110000, 110020, 109980, 110001, 90, 1, True),
    (8, 1, "2024-01-02 00:00:00", 15000, 15010, 14990, 15005, 5, None, True),
]


def _migrate(env: dict[str, str], target: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "trading", target, "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def scratch_postgres():
    """A database of its own on the test server, dropped afterwards."""
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith("postgres"):
        pytest.skip("needs the PostgreSQL server of scripts/test.sh")
    name = f"bars_migration_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    yield url
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _pg_rows(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            f"SELECT {COLUMNS}, to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') "
            "FROM trading_bar ORDER BY instrument_id, timeframe, time"
        )
        return [(*r[:2], r[10], *r[3:10]) for r in rows.fetchall()]


def _pg_key(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [
            row[0]
            for row in conn.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'trading_bar'::regclass AND i.indisprimary "
                "ORDER BY array_position(i.indkey, a.attnum)"
            )
        ]


@pytest.mark.slow
def test_postgres_migration_keeps_existing_bars_and_can_be_unapplied(scratch_postgres):
    env = {**os.environ, "DATABASE_URL": scratch_postgres}
    _migrate(env, BEFORE)
    with psycopg.connect(scratch_postgres) as conn, conn.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO trading_bar ({COLUMNS}) VALUES (%s, %s, (%s || '+00')::timestamptz, %s, %s, %s, %s, %s, "
            "%s, %s)",
            BARS,
        )
    before = _pg_rows(scratch_postgres)

    _migrate(env, AFTER)
    after = _pg_rows(scratch_postgres)
    key = _pg_key(scratch_postgres)
    _migrate(env, BEFORE)
    undone, undone_key = _pg_rows(scratch_postgres), _pg_key(scratch_postgres)

    assert before == sorted(BARS, key=lambda bar: bar[:3])
    assert after == before
    assert key == ["instrument_id", "timeframe", "time"]
    assert undone == before
    assert undone_key == ["id"]


def _sqlite_rows(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT {COLUMNS} FROM trading_bar ORDER BY instrument_id, timeframe, time").fetchall()


def _sqlite_key(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        info = conn.execute("PRAGMA table_info(trading_bar)").fetchall()
    return [row[1] for row in sorted((r for r in info if r[5]), key=lambda r: r[5])]


@pytest.mark.slow
def test_sqlite_migration_keeps_existing_bars_and_can_be_unapplied(tmp_path):
    env = {**os.environ, "ASIRIKUY_MODE": "embedded", "ASIRIKUY_VAR_DIR": str(tmp_path), "DATABASE_URL": ""}
    path = tmp_path / "asirikuy.sqlite3"
    _migrate(env, BEFORE)
    with sqlite3.connect(path) as conn:
        conn.executemany(f"INSERT INTO trading_bar ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", BARS)
    before = _sqlite_rows(path)

    _migrate(env, AFTER)
    after, key = _sqlite_rows(path), _sqlite_key(path)
    _migrate(env, BEFORE)
    undone, undone_key = _sqlite_rows(path), _sqlite_key(path)

    assert len(before) == len(BARS)
    assert after == before
    assert key == ["instrument_id", "timeframe", "time"]
    assert undone == before
    assert undone_key == ["id"]
