"""The price_stream command: prices into Redis, a stall detected and resumed, a clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection

from trading.venues.oanda import prices
from trading.venues.oanda.prices import cached_quote, oanda_quote, price_key_prefix, stream_health_key

from .conftest import eventually

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgresql://{auth}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


@pytest.fixture
def redis_client(settings):
    if not settings.REDIS_URL:
        pytest.fail("the price stream tests need Redis (run them through scripts/test.sh)")
    client = prices.price_redis()
    client.delete(f"{price_key_prefix('practice')}EURUSD", stream_health_key("practice"))
    yield client
    client.delete(f"{price_key_prefix('practice')}EURUSD", stream_health_key("practice"))


@pytest.fixture
def stream_process(transactional_db, oanda_account, fake, tmp_path):
    procs = []

    def start(*extra: str) -> subprocess.Popen:
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "OANDA_PRACTICE_URL": fake.url,
            "OANDA_PRACTICE_STREAM_URL": fake.url,
        }
        log = open(tmp_path / "stream.log", "w")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "price_stream", "--symbols", "EURUSD", *extra],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        proc.log_path = tmp_path / "stream.log"  # type: ignore[attr-defined]
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def _health(client) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in client.hgetall(stream_health_key("practice")).items()}


@pytest.mark.slow
def test_stream_caches_prices_recovers_from_a_stall_and_stops_on_sigterm(
    stream_process, redis_client, fake, oanda_account, oanda_eurusd
):
    fake.inject_stream("stall", after=3, seconds=5)
    proc = stream_process("--heartbeat-timeout", "0.5", "--health-every", "0.1")

    first = eventually(lambda: cached_quote(redis_client, "practice", "EURUSD"), timeout=20, what="a cached price")
    recovered = eventually(
        lambda: (h := _health(redis_client)).get("state") == "streaming" and int(h.get("reconnects", 0)) >= 1 and h,
        timeout=20,
        what="a reconnect after the stall",
    )
    fake.set_price("EUR_USD", "1.20000", "1.20010")
    moved = eventually(
        lambda: (q := cached_quote(redis_client, "practice", "EURUSD")) and q.bid == Decimal("1.20000") and q,
        timeout=20,
        what="the new price after the reconnect",
    )
    rest_calls = fake.count("GET", "/pricing")
    used = oanda_quote(oanda_account, oanda_eurusd)
    timings = []
    for _ in range(2000):
        started = time.perf_counter()
        cached_quote(redis_client, "practice", "EURUSD")
        timings.append((time.perf_counter() - started) * 1000)
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=20)

    assert first.bid == Decimal("1.10000") and first.ask == Decimal("1.10010")
    assert int(recovered["stalls"]) >= 1
    assert moved.ask == Decimal("1.20010")
    assert used == moved
    assert fake.count("GET", "/pricing") == rest_calls  # the cached price served the run, no REST call
    assert code == 0, proc.log_path.read_text()
    assert _health(redis_client)["state"] == "stopped"
    timings.sort()
    print(
        f"\ncached price read (pipeline HGETALL x2 + parse): p50 {statistics.median(timings):.3f} ms, "
        f"p99 {timings[int(len(timings) * 0.99)]:.3f} ms over {len(timings)} reads"
    )


def test_stale_stream_falls_back_to_the_rest_snapshot(redis_client, fake, oanda_account, oanda_eurusd):
    redis_client.hset(
        f"{price_key_prefix('practice')}EURUSD",
        mapping={"bid": "1.00000", "ask": "1.00010", "time": "2020-01-01T00:00:00+00:00", "tradeable": "1"},
    )
    redis_client.hset(
        stream_health_key("practice"), mapping={"state": "streaming", "last_message_at": "2020-01-01T00:00:00+00:00"}
    )

    quote = oanda_quote(oanda_account, oanda_eurusd)

    assert quote.bid == Decimal("1.10000")
    assert fake.count("GET", "/pricing") == 1


@pytest.mark.slow
def test_max_seconds_ends_the_command(stream_process, redis_client):
    proc = stream_process("--max-seconds", "1")

    code = proc.wait(timeout=30)

    assert code == 0, proc.log_path.read_text()
    assert "stopped:" in proc.log_path.read_text()
