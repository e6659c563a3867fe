"""The stack under test: a throw-away PostgreSQL and Redis of our own (so we can stop and restart them) and the
platform's processes, each restarted when it exits, as systemd, compose or the quickstart would do.

Everything listens on 127.0.0.1 only and lives in one temporary directory that ``Stack.close`` removes.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from trading.queues import Queue, shard_queue

ROOT = Path(__file__).resolve().parents[2]
RESTART_DELAY = 1.0  # what the supervisors of deploy/systemd, compose and the quickstart wait (about)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise SystemExit(
            "PostgreSQL is not installed (Debian: apt-get install postgresql); see scripts/with_services.sh"
        )
    return found[-1].parent


def _as_pg(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.getuid() == 0 else argv


class Postgres:
    def __init__(self, root: Path) -> None:
        self.bin, self.dir, self.port = _pg_bin(), root / "pg", free_port()
        self.dir.mkdir()
        if os.getuid() == 0:
            subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], capture_output=True)
            shutil.chown(self.dir, "postgres")
        subprocess.run(
            _as_pg([str(self.bin / "initdb"), "-D", str(self.dir), "-U", "asirikuy", "--auth=trust", "--no-sync"]),
            check=True,
            capture_output=True,
        )
        self.start()
        subprocess.run(
            [str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "asirikuy", "asirikuy"],
            check=True,
        )

    @property
    def url(self) -> str:
        return f"postgresql://asirikuy@127.0.0.1:{self.port}/asirikuy"

    def _ctl(self, *args: str) -> None:
        subprocess.run(_as_pg([str(self.bin / "pg_ctl"), "-D", str(self.dir), *args]), check=True, capture_output=True)

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c max_connections=300 -c fsync=off"
        self._ctl("-l", str(self.dir / "server.log"), "-w", "-o", options, "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()


class Redis:
    def __init__(self, root: Path) -> None:
        self.dir, self.port = root / "redis", free_port()
        self.dir.mkdir()
        self.proc: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        # As in production: append-only file, never evict (queued bar closes survive a restart).
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.dir),
                "--appendonly",
                "yes",
                "--save",
                "",
                "--maxmemory-policy",
                "noeviction",
                "--logfile",
                str(self.dir / "redis.log"),
            ],
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # a clean shutdown: the append-only file is flushed
            self.proc.wait(timeout=30)


@dataclass
class Proc:
    """One platform process; ``restarts`` counts how often its supervisor started it again."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen | None = None
    restarts: int = 0
    restarted_at: list[float] = field(default_factory=list)

    def start(self) -> None:
        out = open(self.log, "a")  # noqa: SIM115 (handed to the child)
        self.popen = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        out.close()

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen is not None else None

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.alive():
            assert self.popen is not None
            self.popen.send_signal(sig)


class Supervisor:
    """Starts every process again RESTART_DELAY after it exits, until ``stop``."""

    def __init__(self) -> None:
        self.procs: dict[str, Proc] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="supervisor", daemon=True)

    def add(self, proc: Proc) -> Proc:
        self.procs[proc.name] = proc
        proc.start()
        return proc

    def begin(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            for proc in list(self.procs.values()):
                if proc.popen is not None and proc.popen.poll() is not None:
                    time.sleep(RESTART_DELAY)
                    if self._stop.is_set():
                        return
                    proc.restarts += 1
                    proc.restarted_at.append(time.time())
                    proc.start()

    def by_pid(self, pid: int) -> Proc | None:
        return next((p for p in self.procs.values() if p.pid == pid), None)

    def stop(self) -> None:
        self._stop.set()
        for proc in self.procs.values():
            proc.kill(signal.SIGTERM)
        for proc in self.procs.values():
            if proc.popen is not None:
                try:
                    proc.popen.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.popen.kill()


class Stack:
    """Services + supervised processes + the environment they share."""

    def __init__(self, *, strategy_workers: int, fake_url: str, web: bool = True) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="asirikuy-faults."))
        os.chmod(self.root, 0o755)
        (self.root / "log").mkdir()
        self.pg = Postgres(self.root)
        self.redis = Redis(self.root)
        self.web_port = free_port()
        self.env = {
            **os.environ,
            "ASIRIKUY_MODE": "production",
            "DATABASE_URL": self.pg.url,
            "REDIS_URL": f"{self.redis.url}/0",
            "CELERY_BROKER_URL": f"{self.redis.url}/1",
            "CELERY_RESULT_BACKEND": f"{self.redis.url}/2",
            "DJANGO_SECRET_KEY": f"faults-only-{time.time_ns()}",
            "ASIRIKUY_TOKEN_KEYS": _fernet_key(),
            "ASIRIKUY_VAR_DIR": str(self.root / "var"),
            "DJANGO_ALLOWED_HOSTS": "*",
            "DJANGO_SETTINGS_MODULE": "asirikuy_site.settings",
            "OANDA_PRACTICE_URL": fake_url,
            "OANDA_PRACTICE_STREAM_URL": fake_url,
            "ASIRIKUY_BAR_WAIT_SECONDS": "5",
            "PYTHONPATH": str(ROOT),
            # one owner runs every instance of the suite (200 in the long run), over loopback without TLS
            "ASIRIKUY_QUOTA_INSTANCES": "0",
            "ASIRIKUY_QUOTA_ACCOUNTS": "0",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
        }
        self.supervisor = Supervisor()
        self.strategy_workers = strategy_workers
        self.web = web

    def start_processes(self) -> None:
        celery = [sys.executable, "-m", "celery", "-A", "asirikuy_site"]
        for k in range(self.strategy_workers):
            self._add(
                f"strategy{k}",
                [
                    *celery,
                    "worker",
                    "-P",
                    "solo",
                    "-Q",
                    shard_queue(k),
                    "-n",
                    f"strategy{k}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "-l",
                    "info",
                ],
                ASIRIKUY_WORKER_SHARD=str(k),
            )
        self._add(
            "io",
            [
                *celery,
                "worker",
                "-P",
                "threads",
                "-c",
                "8",
                "-Q",
                f"{Queue.DEFAULT},{Queue.BROKER_IO}",
                "-n",
                "io@%h",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "info",
            ],
        )
        self._add("beat", [*celery, "beat", "-l", "info"])
        self._add("stream", [sys.executable, "manage.py", "price_stream", "--environment", "practice"])
        if self.web:
            self._add(
                "web",
                [
                    str(Path(sys.executable).parent / "gunicorn"),
                    "asirikuy_site.wsgi",
                    "-b",
                    f"127.0.0.1:{self.web_port}",
                    "-w",
                    "1",
                ],
            )
        self.supervisor.begin()

    def _add(self, name: str, argv: list[str], **extra: str) -> Proc:
        return self.supervisor.add(Proc(name, argv, {**self.env, **extra}, self.root / "log" / f"{name}.log"))

    def proc(self, name: str) -> Proc:
        return self.supervisor.procs[name]

    def close(self, keep: bool = False) -> None:
        self.supervisor.stop()
        self.redis.stop()
        try:
            self.pg.stop()
        except subprocess.CalledProcessError:
            pass
        if not keep:
            shutil.rmtree(self.root, ignore_errors=True)


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()
