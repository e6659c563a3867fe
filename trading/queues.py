"""Celery queues in one place: the queue names, the task routes, and the pinned account queues.

Queues are split by the kind of work, so each has workers sized for it: ``account.<id>`` (strategy runs of
one account, one process each), ``broker_io`` (network round trips to brokers, a threaded worker),
``backtests`` (hours of CPU: backtests and optimisation passes, never beside order dispatch) and
``default`` (short housekeeping).

Pinned strategy queues: each account has its own queue, consumed by exactly one worker process at a time.

A strategy worker is started with ASIRIKUY_WORKER_SHARD=k (its number, for the health checks) and the solo pool.
It consumes "account.<id>" for each account whose lease it holds (``trading.leases``): workers share the
accounts fairly, take over a dead worker's accounts within seconds, and rebalance when one is added. One
process per account queue means an account's runs never overlap and an instance's framework state stays in
that process.
"""

from __future__ import annotations

import logging
import os
from enum import StrEnum
from typing import Any

from celery import bootsteps
from celery.signals import worker_init

logger = logging.getLogger(__name__)
REFRESH_SECONDS = 1.0
ACCOUNT_QUEUE_PREFIX = "account."
SHARD_QUEUE_PREFIX = "shard."


class Queue(StrEnum):
    """The fixed queues (values are what workers are started with: ``-Q default,broker_io``)."""

    DEFAULT = "default"
    BROKER_IO = "broker_io"
    BACKTESTS = "backtests"


def account_queue(account_id: int) -> str:
    """The pinned queue of one account's strategy work."""
    return f"{ACCOUNT_QUEUE_PREFIX}{account_id}"


def shard_queue(shard: int | str) -> str:
    """A strategy worker's own queue (``-Q shard.<k>``): it keeps the worker off ``default``; benches use it."""
    return f"{SHARD_QUEUE_PREFIX}{shard}"


# Tasks whose first argument is an account id and that must run in that account's pinned process.
PINNED_TASKS = frozenset(
    {
        "trading.tasks.execute_bar_close",
        "trading.tasks.account_sync",
        "trading.tasks.paper_account_tick",
        "trading.tasks.orders_fill",
    }
)
# Every other task's queue, by name or by a "<module>.*" pattern (CELERY_TASK_ROUTES).
TASK_ROUTES: dict[str, dict[str, str]] = {
    "trading.tasks.orders_dispatch": {"queue": Queue.BROKER_IO},
    "trading.tasks.orders_resolve_unknown": {"queue": Queue.BROKER_IO},
    "trading.tasks.orders_sweep": {"queue": Queue.BROKER_IO},  # its beat entry's queue, for any other sender
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


def worker_shard() -> str | None:
    """This worker's label when it is a strategy worker (it then serves account queues under leases)."""
    raw = os.environ.get("ASIRIKUY_WORKER_SHARD")
    return raw if raw not in (None, "") else None


def shard_of(account_id: int) -> int:
    """The label the earlier static layout gave the worker of ``account_id`` (any strategy worker serves any
    account now; kept for scripts that still start one worker per label)."""
    from django.conf import settings

    return account_id % settings.STRATEGY_SHARDS


class AccountQueues(bootsteps.StartStopStep):
    """Consumer step: consume the queues of the accounts this worker holds a lease on, and no others."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.tref = None

    def start(self, c: Any) -> None:
        if worker_shard() is None:
            return
        from trading.leases import account_leases_start

        account_leases_start()
        self.refresh(c)
        self.tref = c.timer.call_repeatedly(REFRESH_SECONDS, self.refresh, (c,), priority=10)

    def refresh(self, c: Any) -> None:
        """Runs in the worker's own loop, between tasks: the consumer is only touched from here."""
        from trading.leases import account_leases

        leases = account_leases()
        if leases is None or c.task_consumer is None:
            return
        try:
            wanted = leases.wanted()
            consumed = _consumed_accounts(c)
            for account_id in sorted(consumed - wanted):
                c.cancel_task_queue(account_queue(account_id))
                logger.info("strategy worker %s stops consuming %s", worker_shard(), account_queue(account_id))
            for account_id in sorted(leases.shedding() - wanted):
                leases.give_back(account_id)
            for account_id in sorted(wanted - consumed):
                c.add_task_queue(account_queue(account_id))
                logger.info("strategy worker %s consumes %s", worker_shard(), account_queue(account_id))
        except Exception:  # the broker connection is being restored: the next tick tries again
            logger.warning("account queue refresh failed", exc_info=True)

    def stop(self, c: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    def shutdown(self, c: Any) -> None:
        """The worker is stopping (not just reconnecting): hand its accounts to the others at once."""
        if worker_shard() is None:
            return
        from trading.leases import account_leases_close

        account_leases_close()


def _consumed_accounts(c: Any) -> set[int]:
    out = set()
    for queue in c.task_consumer.queues:
        name = queue.name
        if name.startswith(ACCOUNT_QUEUE_PREFIX) and name[len(ACCOUNT_QUEUE_PREFIX) :].isdigit():
            out.add(int(name[len(ACCOUNT_QUEUE_PREFIX) :]))
    return out


@worker_init.connect
def _worker_policy(sender: Any = None, **_: Any) -> None:
    """Solo and threaded workers (strategy, I/O) acknowledge each task as they start it; a threaded one also
    fetches a task only when a thread is free and stores no results.

    Their work is recovered from the database, not from Redis: the claim rows, the sweepers and the lost-bar
    detection re-queue a bar close and re-send orders within seconds, while Redis would redeliver an
    unacknowledged message only after its 15-minute visibility timeout (expired by then). And an
    unacknowledged message held when Redis goes away (a late-acknowledged task running, one prefetched) makes
    kombu's clean-up raise ``AttributeError: 'NoneType' object has no attribute 'hostname'`` in
    ``restore_unacked`` (or in the acknowledgement of a task that finishes after the loss), which stops the
    whole worker. A solo worker runs its task in the consuming thread, so it fetches nothing while it runs; a
    threaded one would prefetch, and a result that cannot be stored while Redis is away leaves a reserved slot
    behind. Only a countdown retry (a bar close retried during a database outage) is still held unacknowledged;
    should Redis go away during that, the worker exits and its supervisor starts it again.
    """
    pool = getattr(sender, "pool_cls", None)
    name = str(pool if isinstance(pool, str) else getattr(pool, "__module__", ""))
    threaded, solo = "thread" in name, "solo" in name
    if sender is None or not (threaded or solo):
        return
    app = sender.app
    for task in app.tasks.values():
        task.acks_late = False
        task.reject_on_worker_lost = False
        if threaded:
            task.ignore_result = True
    if threaded:
        app.conf.worker_disable_prefetch = True
    logger.info("%s worker: tasks acknowledged as they start%s", "threaded" if threaded else "solo",
                ", never prefetched, results not stored" if threaded else "")  # fmt: skip
