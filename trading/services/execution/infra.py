"""Errors of the infrastructure (database, Redis, the message broker) as opposed to errors of a run.

A strategy that fails, bad settings or stale bars are the instance's own outcome and are recorded on its
execution. A database or Redis that is away is nobody's outcome: the run is given back (its claims released)
and the bar-close task is retried with its bar fixed, until the bar is no longer current.
"""

from __future__ import annotations

from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    RedisConnectionError,
    RedisTimeoutError,
    BrokerOperationalError,
)


def is_infrastructure_error(error: BaseException) -> bool:
    """``error`` or an error it was raised from is the database, Redis or the broker being away."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, INFRASTRUCTURE_ERRORS):
            return True
        seen.add(id(current))
        current = current.__cause__
    return False


def connection_reset() -> None:
    """Drop this thread's database connection after an error, so the next statement opens a fresh one."""
    from django.db import connection

    try:
        if connection.in_atomic_block:
            return  # the enclosing atomic block rolls back and the connection is closed after it
        connection.close()
    except Exception:  # closing a broken connection may fail too; the next use reconnects anyway
        pass
