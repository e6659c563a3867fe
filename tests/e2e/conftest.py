"""A real Celery worker process on the test Redis and the test PostgreSQL database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgresql://{auth}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def wait_until(predicate, *, timeout: float, interval: float = 0.2, what: str = "condition"):
    """Poll instead of sleeping a fixed time; fail with a message when the bound is reached."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """Start `celery worker` processes; each is stopped (TERM, then KILL) at the end of the test."""
    if connection.vendor != "postgresql":
        pytest.fail("the worker end-to-end tests need PostgreSQL (run them through scripts/test.sh)")
    procs: list[subprocess.Popen] = []

    def start(*, shard: int, name: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "ASIRIKUY_WORKER_SHARD": str(shard),
            "ASIRIKUY_BAR_WAIT_SECONDS": "0",
            **(extra_env or {}),
        }
        log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "asirikuy_site", "worker", "-P", "solo", "-Q", f"shard.{shard}",
             "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "-l", "info"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        procs.append(proc)
        proc.log_path = tmp_path / f"{name}.log"  # type: ignore[attr-defined]
        wait_until(lambda: "ready." in proc.log_path.read_text() or proc.poll() is not None,  # type: ignore[attr-defined]
                   timeout=60, what=f"worker {name} to start")
        if proc.poll() is not None:
            raise AssertionError(f"worker {name} exited:\n{proc.log_path.read_text()}")  # type: ignore[attr-defined]
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
