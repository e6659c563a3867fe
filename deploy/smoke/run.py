"""The smoke run: a throw-away PostgreSQL and Redis, ``migrate`` to completion, then every service until healthy.

``Smoke`` is a context manager so a test can look further while everything runs (the readiness endpoint, a second
beat) and still have every process stopped and the temporary directory removed however it ends.
"""

from __future__ import annotations

import importlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from deploy.smoke.compose import COMPOSE_FILE, ROOT, interpolate, load, read_env_file, service_environment
from deploy.smoke.native import Loopback, NativeService, container_ports, healthcheck_argv, native

HEALTHY, FAILED = "healthy", "FAILED"
# The fault suite's throw-away PostgreSQL and Redis, imported by name: mypy checks bench/ (no __init__.py) as
# top-level modules, so a plain import would give the file a second module name.
_stack: Any = importlib.import_module("bench.faults.stack")
ONE_SHOT = "migrate"
STAND_INS = ("postgres", "redis")  # the throw-away servers of this run stand in for these images
IMAGE_ONLY = ("prometheus", "grafana")  # no native binary here; tests/deployment checks the files they mount


@dataclass
class Outcome:
    service: str
    host: str
    status: str  # healthy, FAILED, or skipped (an image with no native stand-in)
    detail: str
    seconds: float


class Smoke:
    """``hosts`` maps a service to the host (machine) it runs on; by default each service is its own host, as each
    container is, and they share one var directory as compose's services share the ``appvar`` volume."""

    def __init__(self, *, hosts: dict[str, str] | None = None, compose: Path = COMPOSE_FILE) -> None:
        self.hosts = hosts or {}
        self.compose = compose
        self.root = Path(tempfile.mkdtemp(prefix="asirikuy-smoke."))
        os.chmod(self.root, 0o755)
        (self.root / "log").mkdir()
        self.procs: dict[str, tuple[NativeService, subprocess.Popen[bytes]]] = {}
        self.pg: Any = None
        self.redis: Any = None
        self.started = time.monotonic()

    # --- set-up -------------------------------------------------------------------------------------------------
    def __enter__(self) -> Smoke:
        try:
            self._prepare()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _prepare(self) -> None:
        self.pg, self.redis = _stack.Postgres(self.root), _stack.Redis(self.root)
        env_path = self.root / ".env"
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "make_env.py"), "--output", str(env_path)],
            check=True,
            capture_output=True,
        )
        self.dotenv = read_env_file(env_path)
        self.services: dict[str, Any] = interpolate(load(self.compose), self.dotenv)["services"]
        self.loop = Loopback(
            addresses={"postgres:5432": f"127.0.0.1:{self.pg.port}", "redis:6379": f"127.0.0.1:{self.redis.port}"},
            root=self.root,
            shared_var=not self.hosts,
        )
        for name, service in self.services.items():
            for port in container_ports(service):
                self.loop.ports[(name, port)] = _stack.free_port()
                self.loop.addresses[f"{name}:{port}"] = f"127.0.0.1:{self.loop.ports[(name, port)]}"
        self.app = {name: self._native(name) for name, service in self.services.items() if "build" in service}

    def _native(self, name: str) -> NativeService:
        service = self.services[name]
        env = service_environment(service, self.dotenv)
        return native(name, service, env, self.hosts.get(name, name), self.loop)

    def port(self, service: str, container_port: int) -> int:
        return self.loop.ports[(service, container_port)]

    # --- running ------------------------------------------------------------------------------------------------
    def migrate(self, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        """The one-shot step every app service waits for (compose: service_completed_successfully)."""
        one = self.app[ONE_SHOT]
        done = subprocess.run(one.argv, cwd=ROOT, env=one.env, capture_output=True, text=True, timeout=timeout)
        (self.root / "log" / f"{ONE_SHOT}.log").write_text(done.stdout + done.stderr)
        return done

    def start(self, names: list[str] | None = None) -> None:
        for name in names or [n for n in self.app if n != ONE_SHOT]:
            self.start_one(self.app[name])

    def start_one(self, service: NativeService, log_name: str | None = None) -> subprocess.Popen[bytes]:
        self.loop.var_dir(service.host).mkdir(parents=True, exist_ok=True)
        with open(self.root / "log" / f"{log_name or service.name}.log", "ab") as out:
            popen = subprocess.Popen(service.argv, cwd=ROOT, env=service.env, stdout=out, stderr=subprocess.STDOUT)
        self.procs[log_name or service.name] = (service, popen)
        return popen

    def log_tail(self, name: str, lines: int = 15) -> str:
        path = self.root / "log" / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def _stand_in_health(self, name: str) -> list[str] | None:
        assert self.pg is not None and self.redis is not None
        argv = healthcheck_argv(self.services[name], name)
        if argv is None:
            return None
        if name == "postgres":  # pg_isready reads PGHOST/PGPORT; the shell form keeps its own words
            return ["env", "PGHOST=127.0.0.1", f"PGPORT={self.pg.port}", *argv]
        if argv[0] == "redis-cli":
            return ["redis-cli", "-h", "127.0.0.1", "-p", str(self.redis.port), *argv[1:]]
        return argv

    def wait_healthy(self, deadline_seconds: float = 120, names: list[str] | None = None) -> list[Outcome]:
        """Run each service's own healthcheck until it passes, its process exits, or the deadline (``names``: only
        these processes; by default every service, the stand-ins and the image-only ones included)."""
        pending: dict[str, tuple[str, list[str] | None, dict[str, str] | None, float]] = {}
        for name in STAND_INS if names is None else ():
            pending[name] = (name, self._stand_in_health(name), None, 10.0)
        for name, (service, _) in self.procs.items():
            if names is None or name in names:
                pending[name] = (service.host, service.health, service.env, service.health_timeout)
        outcomes = [
            Outcome(n, "-", "skipped", "image only: not run natively", 0.0) for n in IMAGE_ONLY if names is None
        ]
        deadline = time.monotonic() + deadline_seconds
        while pending:
            for name, (host, argv, env, timeout) in list(pending.items()):
                elapsed = time.monotonic() - self.started
                popen = self.procs[name][1] if name in self.procs else None
                if popen is not None and popen.poll() is not None:
                    detail = f"exited with status {popen.returncode}: {self.log_tail(name)}"
                    outcomes.append(Outcome(name, host, FAILED, detail, elapsed))
                elif argv is None:
                    outcomes.append(Outcome(name, host, FAILED, "no healthcheck", elapsed))
                else:
                    passed, said = _check(argv, env, timeout)
                    if not passed and time.monotonic() < deadline:
                        continue
                    detail = said[:80] if passed else f"healthcheck still failing: {said[-500:]}"
                    outcomes.append(Outcome(name, host, HEALTHY if passed else FAILED, detail, elapsed))
                del pending[name]
            if pending:
                time.sleep(0.5)
        return outcomes

    # --- tear-down ----------------------------------------------------------------------------------------------
    def close(self, keep: bool = False) -> None:
        for _, popen in self.procs.values():
            if popen.poll() is None:
                popen.send_signal(signal.SIGTERM)
        for _, popen in self.procs.values():
            try:
                popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait()
        if self.redis is not None:
            self.redis.stop()
        if self.pg is not None:
            try:
                self.pg.stop()
            except subprocess.CalledProcessError:
                pass
        if not keep:
            shutil.rmtree(self.root, ignore_errors=True)


def _check(argv: list[str], env: dict[str, str] | None, timeout: float) -> tuple[bool, str]:
    """One run of a healthcheck command: passed, and what it said."""
    try:
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, f"no answer within {timeout:.0f} s"
    if done.returncode == 0:
        return True, done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "ok"
    return False, (done.stdout + done.stderr).strip()
