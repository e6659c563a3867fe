"""Fixtures for broker tests: a fake OANDA on 127.0.0.1, clients pointed at it, a throw-away Redis."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from brokers.oanda import OandaClient
from brokers.oanda.pacing import Budget, LocalPacer
from tests.support.fake_oanda import FakeOanda


def eventually(predicate: Callable[[], Any], *, timeout: float = 5.0, interval: float = 0.01) -> Any:
    """Poll until ``predicate()`` is truthy and return its value; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


class SleepRecorder:
    """Stands in for time.sleep in clients: records the delays, sleeps for none of them."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def fake() -> Iterator[FakeOanda]:
    server = FakeOanda.start(heartbeat_interval=0.1, other_accounts=("101-004-1000001-002",))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def hedging_fake() -> Iterator[FakeOanda]:
    server = FakeOanda.start(hedging=True, heartbeat_interval=0.1)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def make_client(sleeps: SleepRecorder) -> Iterator[Callable[..., OandaClient]]:
    made: list[OandaClient] = []

    def make(server: FakeOanda, **overrides: Any) -> OandaClient:
        kwargs: dict[str, Any] = {
            "base_url": server.url,
            "stream_url": server.url,
            "token": server.token,
            "account_id": server.account_id,
            "timeout": (1.0, 2.0),
            "max_retries": 2,
            "sleep": sleeps,
            # Out of the way unless a test is about pacing: the recorded sleeps are then only retries.
            "pacer": LocalPacer(Budget(1000, 1.0), Budget(1000, 1.0)),
        }
        kwargs.update(overrides)
        client = OandaClient(**kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(fake: FakeOanda, make_client: Callable[..., OandaClient]) -> OandaClient:
    return make_client(fake)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def redis_client() -> Iterator[Any]:
    """A throw-away redis-server on a free loopback port, with no persistence."""
    import redis

    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not shutil.which(binary):
        pytest.fail("redis-server binary not found; install redis-server to run the RedisPriceSink tests")
    port = _free_port()
    proc = subprocess.Popen(  # noqa: S603 - fixed local binary
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        eventually(lambda: _pings(client), timeout=10)
        yield client
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


def _pings(client: Any) -> bool:
    import redis

    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False
