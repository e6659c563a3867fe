"""A time limit per strategy call that never needs the strategy's cooperation.

In the main thread (a `-P solo` strategy worker, a management command) a one-shot SIGALRM interrupts the
call, sleeps included. Elsewhere (a backtest in a threaded worker) a watchdog thread raises the timeout in
the calling thread at its next Python instruction (PyThreadState_SetAsyncExc); a call blocked inside C code
is only stopped when it returns to Python. The timeout is a BaseException so a strategy's own
``except Exception`` does not swallow it. A later supervisor (a child process per foreign library) can take
the same place: ``Guard.call`` is the one seam.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TypeVar

from framework import _ffi

T = TypeVar("T")


class StrategyTimeout(BaseException):  # noqa: N818 - raised into strategy code, named for what happened
    """A strategy call ran past its time limit (raised inside the call)."""


class Guard:
    """Calls with a time limit; one per thread (a worker's batch, a backtest run)."""

    def __init__(self, *, use_signal: bool = True) -> None:
        """``use_signal=False`` always takes the watchdog (a backtest: no two timer syscalls per bar; a call
        sleeping or blocked in C is then stopped when it returns to Python)."""
        self._thread = threading.current_thread()
        self._main = use_signal and self._thread is threading.main_thread() and hasattr(signal, "setitimer")
        self._started: float | None = None
        self._limit = 0.0
        self._watchdog: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._installed = False

    def call(self, limit: float, function: Callable[..., T], *args: object) -> T:
        """Return ``function(*args)``; raise StrategyTimeout inside it after ``limit`` seconds."""
        if self._main and self._alarm_ready():
            signal.setitimer(signal.ITIMER_REAL, limit)
            try:
                return function(*args)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        self._ensure_watchdog()
        self._limit = limit
        self._started = time.monotonic()  # one assignment: the watchdog reads it under its lock
        try:
            return function(*args)
        finally:
            with self._lock:
                self._started = None

    def _alarm_ready(self) -> bool:
        """Our SIGALRM handler is installed (once; it stays: it only fires when ``call`` armed the timer).

        Not when another handler owns SIGALRM: then the watchdog thread is used instead.
        """
        if self._installed:
            return True
        current = signal.getsignal(signal.SIGALRM)
        if current not in (signal.SIG_DFL, signal.SIG_IGN, None) or signal.getitimer(signal.ITIMER_REAL)[0] != 0:
            self._main = False
            return False
        signal.signal(signal.SIGALRM, _on_alarm)
        self._installed = True
        return True

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Stop the running call's clock inside this block (the platform's own work done within the call,
        such as a backtest's indicator table). Watchdog mode only; the alarm keeps its deadline."""
        with self._lock:
            started, self._started = self._started, None
        began = time.monotonic()
        try:
            yield
        finally:
            if started is not None:
                self._started = started + (time.monotonic() - began)

    def close(self) -> None:
        """Stop the watchdog thread (if one was started)."""
        self._stop.set()

    def _ensure_watchdog(self) -> None:
        if self._watchdog is not None:
            return
        target = self._thread.ident
        assert target is not None

        def watch() -> None:
            while not self._stop.wait(0.05):
                with self._lock:
                    started, limit = self._started, self._limit
                    if started is not None and time.monotonic() - started > limit:
                        self._started = None  # raised once per call
                        _ffi.async_raise(target, StrategyTimeout)
                if not self._thread.is_alive():
                    return

        self._watchdog = threading.Thread(target=watch, name="strategy-time-limit", daemon=True)
        self._watchdog.start()


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise StrategyTimeout


_local = threading.local()


def thread_guard() -> Guard:
    """This thread's Guard."""
    guard: Guard | None = getattr(_local, "guard", None)
    if guard is None:
        guard = _local.guard = Guard()
    return guard
