"""Account leases: which strategy worker serves which account, with failover and rebalancing.

Every account has its own queue (``account.<id>``). A strategy worker consumes the queue of an account only
while it holds that account's lease, so at most one process runs an account's bar closes at a time and an
instance's framework state stays in one process. A background thread of each worker renews its leases
every fifth of their life, says the worker is alive, and takes free accounts up to its fair share
(accounts / live workers, rounded up); a worker holding more than its share gives the excess back, so adding
or losing a worker rebalances the accounts without a restart. A worker that dies stops renewing: its leases
lapse (Redis) or are dropped by the kernel (file locks, embedded mode), and the other workers take its
accounts within seconds.

A worker that cannot renew a lease stops consuming that account's queue at RENEW_GIVE_UP of the lease's life,
before anyone else may take it; and a bar-close task checks, before it runs, that this process still holds
the account (``account_lease_held``), handing the message back otherwise.
"""

from __future__ import annotations

import logging
import math
import random
import socket
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings

from trading.leases.backends import FileLeases, LeaseBackend, RedisLeases

logger = logging.getLogger(__name__)
RENEW_GIVE_UP = 0.6  # of the lease's life without a successful renewal: stop consuming
ACCOUNTS_EVERY = 5.0  # seconds between reads of the account list


def lease_backend(holder: str) -> LeaseBackend:
    if settings.REDIS_URL:
        return RedisLeases(settings.REDIS_URL, holder, settings.ACCOUNT_LEASE_SECONDS)
    return FileLeases(settings.VAR_DIR / "leases", holder)


@dataclass
class AccountLeases:
    """The leases of one worker process; ``run()`` in a daemon thread, the consumer applies ``wanted()``."""

    backend: LeaseBackend
    ttl: float
    held: dict[int, float] = field(default_factory=dict)  # account id -> monotonic time of its last renewal
    shed: set[int] = field(default_factory=set)  # held, but to be given back once no longer consumed
    accounts: list[int] = field(default_factory=list)
    workers: int = 1
    _accounts_read: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)

    @property
    def renew_every(self) -> float:
        return self.ttl / 5

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.cycle()
            except Exception:  # Redis or the database away: the leases lapse as they should; keep trying
                logger.warning("account leases: cycle failed", exc_info=True)
            self._stop.wait(self.renew_every)

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        """At a warm shutdown: give every account back and leave the worker list, so others take over now."""
        self.stop()
        with self._lock:
            held = list(self.held)
            self.held.clear()
            self.shed.clear()
        for account_id in held:
            try:
                self.backend.release(account_id)
            except Exception:  # they lapse on their own
                logger.warning("account %s: releasing the lease at shutdown failed", account_id, exc_info=True)
        try:
            self.backend.close()
        except Exception:
            logger.warning("account leases: leaving the worker list failed", exc_info=True)

    def cycle(self) -> None:
        self.workers = max(self.backend.heartbeat(), 1)
        with self._lock:
            held = list(self.held)
        kept = self.backend.renew(held)
        now = time.monotonic()
        with self._lock:
            for account_id in held:
                if account_id in kept:
                    self.held[account_id] = now
                else:
                    self.held.pop(account_id, None)
                    self.shed.discard(account_id)
                    logger.warning("account %s: lease lost; no longer consuming its queue", account_id)
        self._read_accounts()
        self._balance()

    def _read_accounts(self) -> None:
        if time.monotonic() - self._accounts_read < ACCOUNTS_EVERY and self.accounts:
            return
        from django.db import close_old_connections, connection

        from trading.models import BrokerAccount

        close_old_connections()
        try:
            self.accounts = list(BrokerAccount.objects.order_by("pk").values_list("pk", flat=True))
            self._accounts_read = time.monotonic()
        except Exception:  # the database is away: serve the accounts we know
            logger.warning("account leases: cannot list accounts", exc_info=True)
            connection.close()

    def _balance(self) -> None:
        share = math.ceil(len(self.accounts) / self.workers) if self.accounts else 0
        with self._lock:
            gone = [a for a in self.held if a not in set(self.accounts)]
            self.shed.update(gone)
            active = [a for a in self.held if a not in self.shed]
            if len(active) > share:
                self.shed.update(sorted(active)[share:])  # give back the excess; the consumer stops first
            room = share - len([a for a in self.held if a not in self.shed])
        if room <= 0:
            return
        free = [a for a in self.accounts if a not in self.held]
        random.shuffle(free)  # workers starting together spread over the accounts
        for account_id in free:
            if room <= 0:
                break
            if self.backend.acquire(account_id):
                with self._lock:
                    self.held[account_id] = time.monotonic()
                room -= 1
                logger.info("account %s: lease taken (%d workers)", account_id, self.workers)

    def holds(self, account_id: int) -> bool:
        """This process may run ``account_id``'s work now (its lease is held, fresh, and not being given back)."""
        with self._lock:
            renewed = self.held.get(account_id)
            if renewed is None or account_id in self.shed:
                return False
        return not self.backend.expires or time.monotonic() - renewed < self.ttl * RENEW_GIVE_UP

    def wanted(self) -> set[int]:
        """The accounts whose queues this worker should consume right now."""
        with self._lock:
            ids = list(self.held)
        return {a for a in ids if self.holds(a)}

    def shedding(self) -> set[int]:
        with self._lock:
            return set(self.shed)

    def give_back(self, account_id: int) -> None:
        """Called once the queue is no longer consumed: release a lease being shed."""
        with self._lock:
            if account_id not in self.shed:
                return
            self.shed.discard(account_id)
            self.held.pop(account_id, None)
        try:
            self.backend.release(account_id)
            logger.info("account %s: lease given back", account_id)
        except Exception:  # it lapses on its own
            logger.warning("account %s: releasing the lease failed", account_id, exc_info=True)


_leases: AccountLeases | None = None


def account_leases_start() -> AccountLeases:
    """Start this process's leases (a strategy worker); idempotent."""
    global _leases
    if _leases is None:
        import os

        holder = f"{socket.gethostname()}:{os.getpid()}"
        _leases = AccountLeases(lease_backend(holder), float(settings.ACCOUNT_LEASE_SECONDS))
        threading.Thread(target=_leases.run, name="account-leases", daemon=True).start()
    return _leases


def account_leases() -> AccountLeases | None:
    return _leases


def account_leases_close() -> None:
    global _leases
    if _leases is not None:
        _leases.close()
        _leases = None


def account_lease_held(account_id: int) -> bool:
    """True unless this process serves account queues under leases and does not hold ``account_id`` now."""
    return _leases is None or _leases.holds(account_id)
