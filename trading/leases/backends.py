"""Where account leases live: Redis in production, file locks on one machine (embedded mode).

Both keep two things: which process holds each account (a lease), and which strategy worker processes are
alive (so each can take its fair share). A Redis lease is a key set with NX and a time to live, renewed by its
holder; a file lease is an exclusive ``flock`` that the kernel releases the moment its process dies.
"""

from __future__ import annotations

import fcntl
import os
import time
import uuid
from pathlib import Path
from typing import Protocol

import redis

WORKERS_KEY = "asirikuy:strategy-workers"
LEASE_PREFIX = "asirikuy:account-lease:"

# Extend every lease still ours; returns 1/0 per key. A lease held by someone else is never touched.
_RENEW = """
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[1] then
    redis.call('pexpire', key, ARGV[2])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
"""
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


class LeaseBackend(Protocol):
    holder: str
    expires: bool  # a lease lapses unless renewed (Redis); False: it lasts until released or the process dies

    def heartbeat(self) -> int:
        """Say this worker is alive; returns how many strategy workers are (itself included)."""

    def acquire(self, account_id: int) -> bool: ...

    def renew(self, account_ids: list[int]) -> set[int]:
        """The accounts of ``account_ids`` still held (their leases extended)."""

    def release(self, account_id: int) -> None: ...

    def close(self) -> None: ...


class RedisLeases:
    expires = True

    def __init__(self, url: str, holder: str, ttl_seconds: float) -> None:
        self.holder = holder
        self.ttl_ms = int(ttl_seconds * 1000)
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._renew = self.client.register_script(_RENEW)
        self._release = self.client.register_script(_RELEASE)

    def heartbeat(self) -> int:
        now = time.time()
        pipe = self.client.pipeline()
        pipe.zadd(WORKERS_KEY, {self.holder: now + self.ttl_ms / 1000})
        pipe.zremrangebyscore(WORKERS_KEY, "-inf", now)
        pipe.zcard(WORKERS_KEY)
        return int(pipe.execute()[-1])

    def acquire(self, account_id: int) -> bool:
        return bool(self.client.set(f"{LEASE_PREFIX}{account_id}", self.holder, nx=True, px=self.ttl_ms))

    def renew(self, account_ids: list[int]) -> set[int]:
        if not account_ids:
            return set()
        kept = self._renew(keys=[f"{LEASE_PREFIX}{a}" for a in account_ids], args=[self.holder, self.ttl_ms])
        return {a for a, ok in zip(account_ids, kept, strict=True) if ok}

    def release(self, account_id: int) -> None:
        self._release(keys=[f"{LEASE_PREFIX}{account_id}"], args=[self.holder])

    def close(self) -> None:
        try:
            self.client.zrem(WORKERS_KEY, self.holder)
        finally:
            self.client.close()


class FileLeases:
    """One lock file per account and one per live worker, in a directory on this machine."""

    expires = False

    def __init__(self, directory: Path, holder: str) -> None:
        self.holder = holder
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self._held: dict[int, int] = {}
        self._name = f"worker-{os.getpid()}-{uuid.uuid4().hex[:8]}.lock"
        self._me = self._lock(self.dir / self._name, blocking=True)

    @staticmethod
    def _lock(path: Path, *, blocking: bool = False) -> int | None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    def heartbeat(self) -> int:
        alive = 1
        for path in self.dir.glob("worker-*.lock"):
            if path.name == self._name:
                continue
            fd = self._lock(path)
            if fd is None:
                alive += 1  # locked: its worker is running
                continue
            try:  # nobody holds it: a worker that is gone
                path.unlink(missing_ok=True)
            finally:
                os.close(fd)
        return alive

    def acquire(self, account_id: int) -> bool:
        if account_id in self._held:
            return True
        fd = self._lock(self.dir / f"account-{account_id}.lock")
        if fd is None:
            return False
        self._held[account_id] = fd
        return True

    def renew(self, account_ids: list[int]) -> set[int]:
        return {a for a in account_ids if a in self._held}

    def release(self, account_id: int) -> None:
        fd = self._held.pop(account_id, None)
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the lock

    def close(self) -> None:
        for account_id in list(self._held):
            self.release(account_id)
        if self._me is not None:
            os.close(self._me)
            (self.dir / self._name).unlink(missing_ok=True)
            self._me = None
