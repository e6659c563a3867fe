"""Request and connection pacing for OANDA's per-IP limits, shared by every account, thread and process.

OANDA answers 429 beyond 120 REST requests per second from one IP address, and asks for at most 2 new
connections per second (Development Guide, Best Practices). Those limits are per host, not per account
or per process: several Celery workers, each with several accounts, share them. So pacing is a budget
of ``count`` grants in any ``window`` seconds that all callers reserve from:

* ``LocalPacer`` keeps the budget in memory: every client of one process shares it (the default).
* ``HostPacer`` keeps it in small files under a directory, locked with ``fcntl.flock``, so every process
  of the host shares it. No Django, no Redis: embedded mode has neither a cache server nor a broker.

A reservation never sleeps itself: it returns how long the caller must wait (the caller sleeps with its
own, injectable, ``sleep``). Grants are reserved in order, so a waiting caller holds its place and a
burst of callers is spread over the windows it needs. Any ``window`` seconds hold at most ``count``
grants, by construction (each grant is at least ``window`` after the grant ``count`` places before it).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

__all__ = [
    "CONNECTIONS",
    "REQUESTS",
    "Budget",
    "HostPacer",
    "LocalPacer",
    "Pacer",
    "default_pacer",
]


@dataclass(frozen=True)
class Budget:
    """At most ``count`` grants in any ``window`` seconds."""

    count: int
    window: float

    def __post_init__(self) -> None:
        if self.count < 1 or self.window <= 0:
            raise ValueError(f"a budget needs count >= 1 and window > 0; was {self.count} per {self.window}s")


# 100 rather than OANDA's hard 120: headroom for the gap between our grant and OANDA's arrival time,
# and OANDA's own advice (at most 100 requests per second on a connection).
REQUESTS = Budget(100, 1.0)
CONNECTIONS = Budget(2, 1.0)

# A stored grant this far in the future can only come from a clock that stepped back; it is dropped.
_MAX_AHEAD = 3600.0


class Pacer(Protocol):
    """What the HTTP chokepoint asks before each request and each new TCP connection."""

    def reserve_request(self) -> float:
        """Reserve one request; returns the seconds to wait before sending it."""
        ...

    def reserve_connection(self) -> float:
        """Reserve one new connection; returns the seconds to wait before opening it."""
        ...


def _next_grant(grants: deque[float] | list[float], budget: Budget, now: float) -> float:
    """The earliest time >= now that keeps at most ``budget.count`` grants in any window."""
    grant = now
    if len(grants) >= budget.count:
        grant = max(grant, grants[-budget.count] + budget.window)
    if grants:
        grant = max(grant, grants[-1])  # keep the log sorted even if the clock stepped back
    return grant


class LocalPacer:
    """The budgets of one process, shared by its threads."""

    def __init__(
        self,
        requests: Budget = REQUESTS,
        connections: Budget = CONNECTIONS,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.requests = requests
        self.connections = connections
        self._clock = clock
        self._lock = threading.Lock()
        self._grants: dict[str, deque[float]] = {
            "requests": deque(maxlen=requests.count),
            "connections": deque(maxlen=connections.count),
        }

    def __repr__(self) -> str:
        return f"LocalPacer(requests={self.requests}, connections={self.connections})"

    def _reserve(self, kind: str, budget: Budget) -> float:
        with self._lock:
            now = self._clock()
            grants = self._grants[kind]
            grant = _next_grant(grants, budget, now)
            grants.append(grant)
        return grant - now

    def reserve_request(self) -> float:
        return self._reserve("requests", self.requests)

    def reserve_connection(self) -> float:
        return self._reserve("connections", self.connections)


class HostPacer:
    """The budgets of one host, in ``directory/<name>.requests`` and ``directory/<name>.connections``.

    Each file holds the newest grants as packed doubles (wall-clock seconds: the files outlive a
    reboot, a monotonic clock does not). A process opens its own descriptors (after a fork too), since
    ``flock`` does not exclude two holders of one open file; threads of a process also take a lock.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        name: str = "oanda",
        requests: Budget = REQUESTS,
        connections: Budget = CONNECTIONS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"pacer name must be a plain file name; was {name!r}")
        self.directory = Path(directory)
        self.name = name
        self.requests = requests
        self.connections = connections
        self._clock = clock
        self._lock = threading.Lock()
        self._pid = -1
        self._fds: dict[str, int] = {}
        self.directory.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"HostPacer(directory={str(self.directory)!r}, name={self.name!r})"

    def _fd(self, kind: str) -> int:
        if self._pid != os.getpid():
            self._fds = {}  # inherited descriptors share the parent's lock: open our own
            self._pid = os.getpid()
        fd = self._fds.get(kind)
        if fd is None:
            path = self.directory / f"{self.name}.{kind}"
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._fds[kind] = fd
        return fd

    def _reserve(self, kind: str, budget: Budget) -> float:
        with self._lock:
            fd = self._fd(kind)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                grants = _read(fd)
                now = self._clock()
                grants = [g for g in grants if g <= now + _MAX_AHEAD]
                grant = _next_grant(grants, budget, now)
                grants.append(grant)
                _write(fd, grants[-budget.count :])
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        return grant - now

    def reserve_request(self) -> float:
        return self._reserve("requests", self.requests)

    def reserve_connection(self) -> float:
        return self._reserve("connections", self.connections)

    def close(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                for fd in self._fds.values():
                    os.close(fd)
            self._fds = {}


def _read(fd: int) -> list[float]:
    size = os.fstat(fd).st_size
    data = os.pread(fd, size, 0) if size else b""
    if len(data) % 8:
        return []  # torn or foreign content: start a fresh log rather than fail every request
    grants = array("d")
    grants.frombytes(data)
    return list(grants)


def _write(fd: int, grants: list[float]) -> None:
    data = array("d", grants).tobytes()
    os.pwrite(fd, data, 0)
    os.ftruncate(fd, len(data))


_default: LocalPacer | None = None
_default_lock = threading.Lock()


def default_pacer() -> LocalPacer:
    """The pacer of this process, shared by every client that is not given one."""
    global _default
    with _default_lock:
        if _default is None:
            _default = LocalPacer()
        return _default


def _forget_default() -> None:
    global _default, _default_lock
    _default = None  # a forked child starts with its own budget and an unheld lock
    _default_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_default)
