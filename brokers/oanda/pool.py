"""The HTTP connection pool of an OANDA client: sized to the caller's threads, every new TCP connection paced.

A pool that does not block opens a throw-away connection whenever all pooled ones are busy, which both
breaks OANDA's "at most 2 new connections per second" and defeats keep-alive. So the pool holds at most
``pool_size`` connections and a thread beyond that waits for a free one (``pool_block``); the worker
sizes it to its thread count. Each real TCP connect, including the reconnect of a pooled connection the
server closed, first reserves a connection from the pacer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from brokers.oanda.pacing import Pacer


class PacedAdapter(HTTPAdapter):
    """``requests`` adapter whose pools pace connects and hold at most ``pool_size`` connections per host."""

    def __init__(self, *, pacer: Pacer, sleep: Callable[[float], None], pool_size: int) -> None:
        if pool_size < 1:
            raise ValueError(f"pool_size must be >= 1; was {pool_size}")
        self.pacer = pacer
        self._sleep = sleep
        # One host per client (its REST base URL), so one cached pool is enough.
        super().__init__(pool_connections=1, pool_maxsize=pool_size, pool_block=True, max_retries=0)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = True, **pool_kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        http_pool, https_pool = _paced_pools(self.pacer, self._sleep)
        self.poolmanager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}


def _paced_pools(
    pacer: Pacer, sleep: Callable[[float], None]
) -> tuple[type[HTTPConnectionPool], type[HTTPSConnectionPool]]:
    def wait_for_slot() -> None:
        delay = pacer.reserve_connection()
        if delay > 0:
            sleep(delay)

    class PacedHTTPConnection(HTTPConnection):
        def connect(self) -> None:
            wait_for_slot()
            super().connect()

    class PacedHTTPSConnection(HTTPSConnection):
        def connect(self) -> None:
            wait_for_slot()
            super().connect()

    class PacedHTTPConnectionPool(HTTPConnectionPool):
        ConnectionCls = PacedHTTPConnection

    class PacedHTTPSConnectionPool(HTTPSConnectionPool):
        ConnectionCls = PacedHTTPSConnection

    return PacedHTTPConnectionPool, PacedHTTPSConnectionPool
