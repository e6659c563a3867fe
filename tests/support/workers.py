"""Real Celery worker processes for end-to-end tests, pointed at the test database and Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The test database (pytest-django's), as the worker processes must see it."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgresql://{auth}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def _wait_ready(proc: subprocess.Popen, log_path: Path, name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "ready." in log_path.read_text() or proc.poll() is not None:
            break
        time.sleep(0.2)
    if proc.poll() is not None or "ready." not in log_path.read_text():
        raise AssertionError(f"worker {name} did not start:\n{log_path.read_text()}")


class Workers:
    """Starts `celery worker` processes; ``stop()`` ends them (TERM, then KILL)."""

    def __init__(self, log_dir: Path, base_env: dict[str, str] | None = None) -> None:
        self.log_dir = log_dir
        self.base_env = base_env or {}
        self.procs: list[subprocess.Popen] = []

    def start(self, name: str, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
        if connection.vendor != "postgresql":
            raise AssertionError("the worker end-to-end tests need PostgreSQL (run them through scripts/test.sh)")
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "ASIRIKUY_BAR_WAIT_SECONDS": "0",
            **self.base_env,
            **(extra_env or {}),
        }
        log_path = self.log_dir / f"{name}.log"
        log = open(log_path, "w")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "asirikuy_site",
                "worker",
                *args,
                "-n",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "info",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        proc.log_path = log_path  # type: ignore[attr-defined]
        self.procs.append(proc)
        _wait_ready(proc, log_path, name)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
