"""Celery queues in one place: the queue names, the task routes, and the pinned account queues.

Queues are split by the kind of work, so each has workers sized for it: ``account.<id>`` (strategy runs of
one account, one process each), ``broker_io`` (network round trips to brokers, a threaded worker),
``backtests`` (hours of CPU: backtests and optimisation passes, never beside order dispatch) and
``default`` (short housekeeping).

Pinned strategy queues: each account has its own queue, consumed by exactly one worker process.

A strategy worker is started with ASIRIKUY_WORKER_SHARD=k (0 ≤ k < ASIRIKUY_STRATEGY_SHARDS) and the solo
pool. It consumes "account.<id>" for every account with id % shards == k, and picks up accounts created
later within REFRESH_SECONDS. One process per account queue means an account's runs never overlap and
an instance's framework state stays in that process.
"""

from __future__ import annotations

import logging
import os
from enum import StrEnum
from typing import Any

from celery import bootsteps

logger = logging.getLogger(__name__)
REFRESH_SECONDS = 10.0
ACCOUNT_QUEUE_PREFIX = "account."


class Queue(StrEnum):
    """The fixed queues (values are what workers are started with: ``-Q default,broker_io``)."""

    DEFAULT = "default"
    BROKER_IO = "broker_io"
    BACKTESTS = "backtests"


def account_queue(account_id: int) -> str:
    """The pinned queue of one account's strategy work."""
    return f"{ACCOUNT_QUEUE_PREFIX}{account_id}"


# Tasks whose first argument is an account id and that must run in that account's pinned process.
PINNED_TASKS = frozenset(
    {
        "trading.tasks.execute_bar_close",
        "trading.tasks.account_sync",
        "trading.tasks.paper_account_tick",
    }
)
# Every other task's queue, by name or by a "<module>.*" pattern (CELERY_TASK_ROUTES).
TASK_ROUTES: dict[str, dict[str, str]] = {
    "trading.tasks.orders_dispatch": {"queue": Queue.BROKER_IO},
    "trading.tasks.orders_resolve_unknown": {"queue": Queue.BROKER_IO},
    "trading.tasks.reconcile": {"queue": Queue.BROKER_IO},
    "trading.tasks.oanda_bars_keep_current": {"queue": Queue.BROKER_IO},
    "trading.tasks.ctrader_bars_keep_current": {"queue": Queue.BROKER_IO},
    "risk.tasks.orders_release_queued": {"queue": Queue.BROKER_IO},
    "backtests.*": {"queue": Queue.BACKTESTS},  # backtests, optimisation and walk-forward passes, drift
}


def route_task(name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **kw: Any) -> dict[str, str] | None:
    """Celery router: pinned tasks go to their account's queue, the rest by TASK_ROUTES (else default)."""
    if name in PINNED_TASKS:
        account_id = args[0] if args else (kwargs or {}).get("account_id")
        if account_id is not None:
            return {"queue": account_queue(int(account_id))}
    route = TASK_ROUTES.get(name) or TASK_ROUTES.get(name.rpartition(".")[0] + ".*")
    return {"queue": str(route["queue"])} if route else None


def worker_shard() -> int | None:
    raw = os.environ.get("ASIRIKUY_WORKER_SHARD")
    return int(raw) if raw else None


def shard_of(account_id: int) -> int:
    from django.conf import settings

    return account_id % settings.STRATEGY_SHARDS


class AccountQueues(bootsteps.StartStopStep):
    """Consumer step that subscribes this worker to its shard's account queues."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.tref = None

    def start(self, c: Any) -> None:
        shard = worker_shard()
        if shard is None:
            return
        self.refresh(c)
        self.tref = c.timer.call_repeatedly(REFRESH_SECONDS, self.refresh, (c,), priority=10)

    def refresh(self, c: Any) -> None:
        from django.db import close_old_connections

        from trading.models import BrokerAccount

        shard = worker_shard()
        close_old_connections()
        try:
            ids = list(BrokerAccount.objects.values_list("pk", flat=True))
        except Exception:  # the database may be briefly away; try again next tick
            logger.exception("could not list accounts for queue subscription")
            return
        for account_id in ids:
            if shard_of(account_id) != shard:
                continue
            queue = account_queue(account_id)
            if not c.task_consumer.consuming_from(queue):
                logger.info("shard %s now consumes %s", shard, queue)
                c.add_task_queue(queue)

    def stop(self, c: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None
