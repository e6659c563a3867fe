"""A compose service turned into a native process on 127.0.0.1: its command, environment and healthcheck.

What changes, and only this: executables to this checkout's virtualenv, compose service addresses
(``postgres:5432``, ``redis:6379``, ``web:8000``) to the loopback ports standing in for them, published container
ports to free loopback ports, ``0.0.0.0`` to ``127.0.0.1``, ``/app/var`` to the host's own var directory, and
``%h`` (the container's host name in a Celery node name) to the host's name, which is also given to the process as
ASIRIKUY_HOST so its heartbeats (and ``manage.py health_check``) name that host.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy.smoke.compose import ComposeError, command_argv

BIN = Path(sys.executable).parent
# Kept from the caller's environment: nothing that could point a process at another database or broker.
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")
_PUBLISHED = re.compile(r"^(?:(?P<ip>[\d.]+):)?(?:(?P<host>[^:]+):)?(?P<container>\d+)(?:/\w+)?$")


@dataclass
class Loopback:
    """Where things are on this machine: service address → loopback address, and each host's var directory."""

    addresses: dict[str, str]
    root: Path
    shared_var: bool = False  # compose: one volume for every service; machines: one var directory each
    ports: dict[tuple[str, int], int] = field(default_factory=dict)  # (service, container port) → loopback port

    def var_dir(self, host: str) -> Path:
        return self.root / "var" if self.shared_var else self.root / "hosts" / host / "var"


@dataclass
class NativeService:
    name: str
    host: str
    argv: list[str]
    env: dict[str, str]
    health: list[str] | None  # None: the healthcheck is disabled (a one-shot: its exit status is its health)
    health_timeout: float = 20.0


def container_ports(service: dict[str, Any]) -> list[int]:
    """The container side of each published port (``127.0.0.1:${ASIRIKUY_WEB_PORT:-8000}:8000`` → 8000)."""
    found = []
    for spec in service.get("ports") or []:
        match = _PUBLISHED.match(str(spec))
        if match is None:
            raise ComposeError(f"port {spec!r}: not [ip:][host:]container")
        found.append(int(match["container"]))
    return found


def _executable(argv: list[str]) -> list[str]:
    head = argv[0]
    if head == "python":
        return [sys.executable, *argv[1:]]
    if head in ("celery", "gunicorn"):
        return [str(BIN / head), *argv[1:]]
    return argv


def _rewrite(text: str, name: str, host: str, loop: Loopback, own_ports: list[int]) -> str:
    for address, local in loop.addresses.items():
        text = text.replace(address, local)
    text = re.sub(r"\b0\.0\.0\.0\b", "127.0.0.1", text)
    for port in own_ports:
        local_port = loop.ports[(name, port)]
        text = re.sub(rf"(?<=[:=]){port}\b", str(local_port), text)
    text = text.replace("/app/var", str(loop.var_dir(host)))
    return text.replace("%h", host)


def healthcheck_argv(service: dict[str, Any], name: str) -> list[str] | None:
    check = service.get("healthcheck")
    if not check or check.get("disable"):
        return None
    test = command_argv(check.get("test"), f"{name}: healthcheck.test")
    if test[0] == "CMD":
        return test[1:]
    if test[0] == "CMD-SHELL":
        return ["sh", "-c", " ".join(test[1:])]
    raise ComposeError(f"{name}: healthcheck.test must start with CMD or CMD-SHELL, not {test[0]!r}")


def _seconds(value: Any, default: float) -> float:
    match = re.fullmatch(r"(\d+)(s|m)", str(value or ""))
    if match is None:
        return default
    return float(match[1]) * (60 if match[2] == "m" else 1)


def native(name: str, service: dict[str, Any], env: dict[str, str], host: str, loop: Loopback) -> NativeService:
    """Service ``name`` (an app service: built from this repository) as a process of ``host`` on loopback."""
    own = container_ports(service)
    argv = _executable([_rewrite(a, name, host, loop, own) for a in command_argv(service.get("command"), name)])
    health = healthcheck_argv(service, name)
    if health is not None:
        health = _executable([_rewrite(a, name, host, loop, own) for a in health])
    process_env = {k: os.environ[k] for k in PASSED_THROUGH if k in os.environ}
    process_env.update({k: _rewrite(v, name, host, loop, own) for k, v in env.items()})
    process_env.update({"ASIRIKUY_HOST": host, "PYTHONUNBUFFERED": "1"})
    timeout = _seconds((service.get("healthcheck") or {}).get("timeout"), 20.0)
    return NativeService(name=name, host=host, argv=argv, env=process_env, health=health, health_timeout=timeout)
