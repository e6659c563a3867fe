"""A real Celery worker process on the test Redis and the test PostgreSQL database."""

from __future__ import annotations

import time

import pytest

from tests.support.workers import Workers


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
    """Start a pinned strategy worker (solo pool, subscribed to its shard's account queues)."""
    workers = Workers(tmp_path)

    def start(*, shard: int, name: str, extra_env: dict[str, str] | None = None):
        return workers.start(
            name,
            "-P",
            "solo",
            "-Q",
            f"shard.{shard}",
            extra_env={"ASIRIKUY_WORKER_SHARD": str(shard), **(extra_env or {})},
        )

    yield start
    workers.stop()
