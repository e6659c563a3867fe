"""README command 1 on embedded defaults: set-up, web, workers and beat; an execution appears."""

from __future__ import annotations

import base64
import os
import signal
import socket
import sqlite3
import stat
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .conftest import wait_until

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

_SERVICE_VARS = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "ASIRIKUY_MODE",
    "DJANGO_SECRET_KEY",
    "ASIRIKUY_TOKEN_KEYS",
    "ASIRIKUY_VAR_DIR",
    "DJANGO_SETTINGS_MODULE",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _count(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:  # tables not created yet, or a writer holds the lock
        return 0


def _http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as e:
        return int(e.code)
    except OSError:
        return None


def test_quickstart_runs_the_demo_instances_on_embedded_defaults(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in _SERVICE_VARS}
    port, flower_port = _free_port(), _free_port()
    env.update(ASIRIKUY_VAR_DIR=str(tmp_path / "var"), ASIRIKUY_PORT=str(port), FLOWER_PORT=str(flower_port))
    (tmp_path / "var" / "log").mkdir(parents=True)
    (tmp_path / "var" / "log" / "web.log").write_text("the previous run's line\n")
    log = open(tmp_path / "quickstart.log", "w")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        ["bash", "scripts/quickstart.sh"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    db = tmp_path / "var" / "asirikuy.sqlite3"
    try:
        wait_until(
            lambda: "is running" in (tmp_path / "quickstart.log").read_text() or proc.poll() is not None,
            timeout=300,
            interval=1,
            what="the quickstart to start its processes",
        )
        assert proc.poll() is None, (tmp_path / "quickstart.log").read_text()
        # the banner comes only once the web and Flower answer (asked right away, no waiting)
        assert _http_status(f"http://127.0.0.1:{port}/health/live") == 200
        assert _http_status(f"http://127.0.0.1:{flower_port}/healthcheck") == 200
        assert (tmp_path / "var" / "log" / "web.log.1").read_text() == "the previous run's line\n"
        _assert_second_copy_refused(env, tmp_path / "var", proc.pid, port)
        status = wait_until(
            lambda: _http_status(f"http://127.0.0.1:{port}/admin/login/"),
            timeout=60,
            interval=0.5,
            what="the web server to answer",
        )
        assert status == 200
        # The demo instances run on the next M1 bar close: allow the rest of this minute and the next.
        wait_until(
            lambda: _count(db, "SELECT count(*) FROM trading_execution WHERE status = 'success'") >= 3,
            timeout=150,
            interval=2,
            what="the three demo instances' first executions",
        )
        assert _count(db, "SELECT count(*) FROM trading_order") >= 1
        _assert_locked_down(tmp_path / "var", flower_port)
    finally:
        _stop_group(proc)
        log.close()


def _assert_second_copy_refused(env: dict, var: Path, pid: int, port: int) -> None:
    """A second quickstart on the same var/ names the running one and leaves its processes and logs alone."""
    logs = {p.name: p.stat().st_size for p in (var / "log").glob("*.log")}
    second = subprocess.run(
        ["bash", "scripts/quickstart.sh", "--port", str(_free_port()), "--flower-port", str(_free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert second.returncode == 1
    assert f"another quickstart is already running on {var} (pid {pid}, web http://127.0.0.1:{port}/" in second.stderr
    assert all((var / "log" / name).stat().st_size >= size for name, size in logs.items())
    assert not list((var / "log").glob("*.log.2"))  # nothing rotated by the refused copy


def _assert_locked_down(var: Path, flower_port: int) -> None:
    """Flower asks for its generated login; the database, the secrets and the var folder are the owner's only."""
    password = (var / "secrets" / "flower_password").read_text().strip()
    url = f"http://127.0.0.1:{flower_port}/api/workers"
    assert wait_until(lambda: _http_status(url) == 401 or None, timeout=60, interval=0.5, what="Flower to answer")
    request = urllib.request.Request(url)
    request.add_header("Authorization", "Basic " + base64.b64encode(f"flower:{password}".encode()).decode())
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    assert stat.S_IMODE((var / "asirikuy.sqlite3").stat().st_mode) == 0o600
    for secret in (var / "secrets").iterdir():
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600, secret


def _stop_group(proc: subprocess.Popen) -> None:
    """The quickstart's trap stops its children on TERM; KILL the group if it does not."""
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue
