"""The lease on a run's execution rows: who holds a RUNNING claim, and proof that the holder is alive.

A claim is committed before the run's work, so a process that dies mid-run would leave its rows RUNNING. Each
claimed row therefore names its holder (``host:pid``) and a ``lease_until`` that a background thread of the
holding process pushes forward every RENEW_SECONDS while the run goes on. A lease that has lapsed means the run
is dead (or frozen, which is the same to everyone else): another delivery may take the row over at once, and
the sweeper re-queues the bar while it is current or records it missed (``execution.sweep``). The holder is
fenced: it writes its orders and results only while the database still names it (``executions_fence``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from trading.models import Execution, ExecutionStatus

logger = logging.getLogger(__name__)
# The sweeper marks a row it has re-queued with this holder; the next claim of the bar takes it over at once.
REQUEUED = "requeued"


def lease_seconds() -> float:
    return float(settings.EXECUTION_LEASE_SECONDS)


def renew_seconds() -> float:
    """Renew well inside the lease: four missed renewals in a row before anyone may take the rows."""
    return lease_seconds() / 5


def lease_end(wall: datetime | None = None) -> datetime:
    return (wall or timezone.now()) + timedelta(seconds=lease_seconds())


def process_holder() -> str:
    """This process, as execution rows name their holder (computed each time: a fork changes the pid)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def holder_process_gone(holder: str) -> bool:
    """``holder`` ("host:pid", optionally ":token") names a process of this host that no longer exists.

    Only a process on this host can be checked; anywhere else the holder's lease or lock has to lapse.
    """
    parts = holder.split(":")
    if len(parts) < 2 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    try:
        os.kill(int(parts[1]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def executions_renew(ids: list[int], *, holder: str | None = None) -> int:
    """Push the lease of this process's RUNNING rows forward; returns how many it still holds."""
    if not ids:
        return 0
    return Execution.objects.filter(
        pk__in=ids, status=ExecutionStatus.RUNNING, holder=holder or process_holder()
    ).update(lease_until=lease_end())


def executions_release(ids: list[int]) -> int:
    """Give up this process's RUNNING rows so that a retry (here or elsewhere) takes them over at once."""
    if not ids:
        return 0
    return Execution.objects.filter(pk__in=ids, status=ExecutionStatus.RUNNING, holder=process_holder()).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )


def executions_fence(ids: list[int]) -> set[int]:
    """Inside the write transaction: the rows this process still holds, locked until the commit.

    A run whose lease lapsed (the process was frozen, or cut off from the database) may have been taken over;
    it must not write orders or results for those rows. PostgreSQL locks the rows (a taker waits for our
    commit, then sees them final); SQLite's immediate transactions already serialise writers.
    """
    if not ids:
        return set()
    rows = Execution.objects.filter(pk__in=ids, status=ExecutionStatus.RUNNING, holder=process_holder())
    if connection.vendor == "postgresql":
        rows = rows.select_for_update()
    return set(rows.values_list("pk", flat=True))


class _Keeper:
    """One daemon thread per process renewing the leases of the runs in progress here."""

    def __init__(self) -> None:
        self._held: dict[int, int] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def held(self) -> set[int]:
        with self._lock:
            return set(self._held)

    @contextmanager
    def hold(self, ids: list[int]) -> Iterator[None]:
        with self._lock:
            for pk in ids:
                self._held[pk] = self._held.get(pk, 0) + 1
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="execution-leases", daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                for pk in ids:
                    left = self._held.get(pk, 0) - 1
                    if left > 0:
                        self._held[pk] = left
                    else:
                        self._held.pop(pk, None)

    def _run(self) -> None:
        from django.db import connections

        stop = threading.Event()
        while not stop.wait(renew_seconds()):
            ids = sorted(self.held())
            if not ids:
                continue
            try:
                kept = executions_renew(ids)
                if kept < len(ids):
                    logger.warning("%d of %d running claims are no longer ours (taken over)", len(ids) - kept, len(ids))
            except Exception:  # the database is away: the leases lapse, and the run fails its own writes
                logger.warning("renewing %d execution leases failed", len(ids), exc_info=True)
            finally:
                connections.close_all()  # this thread's own connection: renewals are seconds apart


_keeper = _Keeper()


def leases_hold(ids: list[int]) -> AbstractContextManager[None]:
    """Keep the leases of ``ids`` alive while the ``with`` block runs (a run in this process)."""
    return _keeper.hold(ids)


def leases_held_here() -> set[int]:
    """Execution ids a run of this process is working on right now."""
    return _keeper.held()
