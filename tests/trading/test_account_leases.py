"""Account leases: fair shares, never one account in two workers, failover when a worker stops or dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from trading.leases import AccountLeases
from trading.leases.backends import FileLeases, RedisLeases
from trading.models import BrokerAccount

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def accounts(transactional_db, alice):
    return [
        BrokerAccount.objects.create(
            owner=alice, name=f"acct {k}", broker="paper", currency="USD", balance=Decimal(1000), equity=Decimal(1000)
        ).pk
        for k in range(4)
    ]


def _redis_worker(ttl: float) -> AccountLeases:
    if not settings.REDIS_URL:
        pytest.skip("needs Redis (run through scripts/test.sh)")
    holder = f"test-{uuid.uuid4().hex[:8]}"
    return AccountLeases(RedisLeases(settings.REDIS_URL, holder, ttl), ttl)


def _consume(*workers: AccountLeases) -> None:
    """What each worker's consumer does every second: give back what it no longer wants."""
    for worker in workers:
        for account_id in worker.shedding() - worker.wanted():
            worker.give_back(account_id)


def _assert_disjoint(*workers: AccountLeases) -> None:
    seen: set[int] = set()
    for worker in workers:
        wanted = worker.wanted()
        assert not wanted & seen, "two workers serve one account"
        seen |= wanted


def _until(predicate, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_redis_leases_share_the_accounts_fairly_and_move_them_when_a_worker_stops(accounts):
    a, b = _redis_worker(3.0), _redis_worker(3.0)
    try:
        a.cycle()
        assert a.wanted() == set(accounts)  # alone: everything

        def settle() -> bool:
            for worker in (a, b):
                worker.cycle()
            _consume(a, b)
            _assert_disjoint(a, b)
            return len(a.wanted()) == 2 and len(b.wanted()) == 2

        _until(settle, "a fair split between two workers")
        assert a.wanted() | b.wanted() == set(accounts)

        # a stops renewing (its process froze or died): it stops serving before b may take its accounts
        def failover() -> bool:
            b.cycle()
            _assert_disjoint(a, b)
            return b.wanted() == set(accounts)

        _until(failover, "the other worker serving every account")
        assert a.wanted() == set()
    finally:
        a.close()
        b.close()


def test_file_leases_are_exclusive_and_free_the_moment_their_process_dies(accounts, tmp_path):
    directory = tmp_path / "leases"
    script = (
        "import sys, time\n"
        "from trading.leases.backends import FileLeases\n"
        f"leases = FileLeases(__import__('pathlib').Path({str(directory)!r}), 'child')\n"
        f"for a in {accounts!r}: leases.acquire(a)\n"
        "print('held', flush=True)\n"
        "time.sleep(600)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ}
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        mine = AccountLeases(FileLeases(directory, "parent"), 10.0)
        mine.cycle()
        assert mine.workers == 2
        assert mine.wanted() == set()  # every account is locked by the child

        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        mine.cycle()

        assert mine.workers == 1
        assert mine.wanted() == set(accounts)
        mine.close()
    finally:
        if child.poll() is None:
            child.kill()
