"""The platform's side of a library child process: start it, call it within a time limit, restart it when it died."""

from __future__ import annotations

import atexit
import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from framework import _ffi
from framework.config import Mode, call_time_limit, resolve_config_path
from framework.errors import (
    FrameworkInputError,
    FrameworkLoadError,
    LibraryCrashError,
    LibraryTimeoutError,
    error_for_code,
)
from framework.isolated import codec
from framework.isolated.wire import WireTimeout, receive, send
from framework.settings import StrategySettings
from framework.types import AccountInfo, BidAsk, DroppedSignal, OrderInfo, OrderSignal, RatesSlot

REPO_ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 60.0


def _signal_name(returncode: int | None) -> str:
    if returncode is None:
        return "an unknown cause"
    if returncode < 0:
        try:
            return f"signal {-returncode} ({signal.Signals(-returncode).name})"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit status {returncode}"


class IsolatedFramework:
    """Framework's calls, served by a child process that holds the library (see framework.isolated)."""

    def __init__(self, library_path: Path, config_path: Path, *, call_seconds: float | None = None) -> None:
        self.library_path = library_path
        self.config_path = config_path
        self.call_seconds = call_time_limit() if call_seconds is None else call_seconds
        self.version: tuple[int, int, int] = (0, 0, 0)
        self.is_ours = False
        self.starts = 0  # child processes started (1 + restarts)
        self.last_failure = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.RLock()
        # per instance: the slot-0 time of the last closed bar of its last call, to see gaps (None: not run yet)
        self._last_closed: dict[int, int] = {}

    @property
    def pid(self) -> int | None:
        """The child's process id (None while none runs)."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def start(self) -> None:
        """Start the child (if none runs) and wait for it to load the library."""
        with self._lock:
            if self.pid is not None:
                return
            self._stop()
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
            proc = subprocess.Popen(
                [sys.executable, "-m", "framework.isolated.child", str(self.library_path), str(self.config_path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                cwd=REPO_ROOT,
                env=env,
            )
            self._proc = proc
            self._last_closed.clear()
            self.starts += 1
            try:
                reply = self._receive(time.monotonic() + START_SECONDS)
            except (WireTimeout, EOFError) as e:
                self._stop()
                raise FrameworkLoadError(f"{self.library_path}: the library process did not start ({e!r})") from e
            assert isinstance(reply, tuple)
            if reply[0] != "ready":
                self._stop()
                raise FrameworkLoadError(str(reply[1]))
            _, version, is_ours, _pid = reply
            self.version, self.is_ours = (int(version[0]), int(version[1]), int(version[2])), bool(is_ours)

    def _receive(self, deadline: float | None) -> object:
        assert self._proc is not None and self._proc.stdout is not None
        return receive(self._proc.stdout.fileno(), deadline)

    def _stop(self) -> int | None:
        """End the child (kill it if it does not go) and return its exit code."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.stdin is not None:
            try:
                proc.stdin.close()
            except OSError:
                pass
        try:
            code = proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        return code

    def _kill(self) -> int | None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
        return self._stop()

    def _call(self, op: str, request: dict[str, Any], where: str) -> Any:
        with self._lock:
            self.start()
            proc = self._proc
            assert proc is not None and proc.stdin is not None
            pid = proc.pid
            try:
                send(proc.stdin.fileno(), (op, request))
                reply = self._receive(time.monotonic() + self.call_seconds)
            except WireTimeout:
                code = self._kill()
                self.last_failure = f"timeout ({_signal_name(code)})"
                raise LibraryTimeoutError(
                    f"{where}: no answer within {self.call_seconds:g} s; the library process (pid {pid}) was killed "
                    "and starts again on the next call"
                ) from None
            except (EOFError, BrokenPipeError) as e:
                code = self._kill()
                self.last_failure = _signal_name(code)
                raise LibraryCrashError(
                    f"{where}: the library process (pid {pid}) died of {_signal_name(code)}; it starts again on the "
                    "next call"
                ) from e
        assert isinstance(reply, tuple)
        if reply[0] == "ok":
            return reply[1]
        if reply[0] == "framework_error":
            raise error_for_code(int(reply[1]), str(reply[2]))
        raise FrameworkInputError(f"{where}: {reply[1]}")

    def run(
        self,
        *,
        instance_id: int,
        settings: StrategySettings,
        symbol: str,
        account_currency: str,
        broker_name: str,
        ref_broker_name: str,
        current_time: int,
        orders: Sequence[OrderInfo],
        account: AccountInfo,
        prices: BidAsk,
        slots: Sequence[RatesSlot | None],
        is_testing: bool = False,
    ) -> list[OrderSignal]:
        """Framework.run in the child. The instance is initialised there when new, changed or after a gap."""
        if settings.instance_id != instance_id:
            raise FrameworkInputError(
                f"settings are for instance {settings.instance_id}, run was asked for instance {instance_id}"
            )
        primary = slots[0].rates if slots and slots[0] is not None else None
        closed = [int(t) for t in primary["time"][-3:-1]] if primary is not None and len(primary) >= 2 else []
        where = f"instance {instance_id}, strategy {settings.strategy_id}, {symbol}, time {current_time}"
        with self._lock:
            last = self._last_closed.get(instance_id)
            # One new closed bar, or the same one again: the library's own buffers follow; anything else resets them.
            reset = last is not None and last not in closed
            request = {
                "instance_id": instance_id,
                "is_testing": is_testing,
                "fingerprint": hashlib.sha1(settings.array.tobytes()).hexdigest(),
                "reset": reset,
                "settings": dict(settings.values),
                "symbol": symbol,
                "account_currency": account_currency,
                "broker_name": broker_name,
                "ref_broker_name": ref_broker_name,
                "current_time": current_time,
                "orders": [o.as_row() for o in orders],
                "account": account.as_row(),
                "prices": prices.as_row(),
                "slots": [codec.slot_to_wire(s) for s in slots],
            }
            self._last_closed.pop(instance_id, None)
            answer = self._call("run", request, where)
            if closed:
                self._last_closed[instance_id] = closed[-1]
        return [codec.signal_from_wire(s) for s in answer]

    def deinit_instance(self, instance_id: int) -> None:
        """Forget ``instance_id`` in the child (nothing to do when no child runs)."""
        with self._lock:
            self._last_closed.pop(instance_id, None)
            if self.pid is not None:
                self._call("deinit", {"instance_id": instance_id}, f"instance {instance_id}")

    def last_dropped(self) -> list[DroppedSignal]:
        """A legacy library reports no dropped actions."""
        return []

    def close(self) -> None:
        """End the child process."""
        with self._lock:
            self._stop()


_hosts_lock = threading.Lock()
_hosts: dict[tuple[str, str], IsolatedFramework] = {}


def isolated_framework(mode: Mode = "live", library: str | os.PathLike[str] | None = None) -> IsolatedFramework:
    """This process's child host of the configured library (one per library and config)."""
    path = _ffi.resolve_library_path(library)
    config = resolve_config_path(mode=mode)
    key = (str(path), str(config))
    with _hosts_lock:
        host = _hosts.get(key)
        if host is None:
            host = _hosts[key] = IsolatedFramework(path, config)
        return host


def isolated_close_all() -> None:
    """End every child process of this process (tests; the worker's exit does it too)."""
    with _hosts_lock:
        hosts = list(_hosts.values())
        _hosts.clear()
    for host in hosts:
        host.close()


atexit.register(isolated_close_all)
