"""Cheap figures for the OANDA client against the fake server on 127.0.0.1.

    .venv/bin/python -m bench.oanda_client

Prints order round trip p50/p99 (200 market orders), cached-price read p50/p99 from Redis (10,000
HGETALLs, needs /usr/bin/redis-server) and candle backfill rate (bars/s over 50,000 M1 bars).
"""

from __future__ import annotations

import shutil
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from brokers.base import OrderRequest
from brokers.oanda import OandaClient
from brokers.oanda.stream import RedisPriceSink, read_cached_price
from tests.support.fake_oanda import FakeOanda, make_candles


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def bench_orders(fake: FakeOanda, n: int = 200, *, rps: float) -> list[float]:
    client = OandaClient(
        base_url=fake.url, stream_url=fake.url, token=fake.token, account_id=fake.account_id, requests_per_second=rps
    )
    ref = client.instrument("EURUSD")
    client.get_account_state()  # warm the connection and learn lastTransactionID
    times = []
    for i in range(n):
        req = OrderRequest(
            client_order_id=f"bench-{rps}-{i}",
            instance_id=1,
            instrument=ref,
            side="buy" if i % 2 == 0 else "sell",
            units=Decimal(1000 + i),
        )
        t0 = time.perf_counter()
        result = client.submit_order(req)
        times.append((time.perf_counter() - t0) * 1000)
        assert result.status == "filled", result
    client.close()
    return times


def bench_candles(fake: FakeOanda, n: int = 50_000) -> tuple[int, float]:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    fake.set_candles("EURUSD", "M1", make_candles(start=start, count=n))
    client = OandaClient(base_url=fake.url, stream_url=fake.url, token=fake.token, account_id=fake.account_id)
    return _backfill(client, start)


def bench_candles_subprocess(n: int = 50_000) -> tuple[int, float]:
    """The fake in its own process, so server JSON work does not share our GIL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_oanda", "--port", "0", "--candles", str(n)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None  # stdout=PIPE
    try:
        url = proc.stdout.readline().strip()
        token, account = (part.split("=", 1)[1] for part in proc.stdout.readline().split())
        client = OandaClient(base_url=url, stream_url=url, token=token, account_id=account)
        start = datetime.now(UTC) - timedelta(minutes=n + 5)
        return _backfill(client, start)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _backfill(client: OandaClient, start: datetime) -> tuple[int, float]:
    t0 = time.perf_counter()
    count = sum(1 for _ in client.iter_candles("EURUSD", "M1", start, price="MBA"))
    elapsed = time.perf_counter() - t0
    client.close()
    return count, elapsed


def bench_redis(n: int = 10_000) -> list[float] | None:
    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        return None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        r = redis.Redis(host="127.0.0.1", port=port)
        for _ in range(200):
            try:
                r.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.02)
        from brokers.base import Quote

        RedisPriceSink(r).write(Quote("EURUSD", Decimal("1.10000"), Decimal("1.10010"), datetime.now(UTC)))
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            quote = read_cached_price(r, "EURUSD")
            times.append((time.perf_counter() - t0) * 1000)
            assert quote is not None
        r.close()
        return times
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    with FakeOanda.start() as fake:
        fake_orders = bench_orders(fake, rps=1e9)
        paced = bench_orders(fake, rps=100.0)
        bars, seconds = bench_candles(fake)
    print(
        f"order round trip, pacing off : p50 {statistics.median(fake_orders):.2f} ms  "
        f"p99 {pct(fake_orders, 99):.2f} ms  (n={len(fake_orders)})"
    )
    print(
        f"order round trip, 100 req/s  : p50 {statistics.median(paced):.2f} ms  p99 {pct(paced, 99):.2f} ms  "
        f"(n={len(paced)}, burst 20)"
    )
    print(f"candle backfill, fake in-proc: {bars} bars in {seconds:.2f} s = {bars / seconds:,.0f} bars/s (MBA)")
    bars, seconds = bench_candles_subprocess()
    print(
        f"candle backfill, fake in a   : {bars} bars in {seconds:.2f} s = {bars / seconds:,.0f} bars/s (MBA; "
        f"separate process)"
    )
    reads = bench_redis()
    if reads is None:
        print("cached price read            : redis-server not installed")
    else:
        print(
            f"cached price read (HGETALL)  : p50 {statistics.median(reads) * 1000:.0f} us  "
            f"p99 {pct(reads, 99) * 1000:.0f} us  (n={len(reads)})"
        )


if __name__ == "__main__":
    main()
