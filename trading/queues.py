"""Pinned strategy queues: each account has its own queue, consumed by exactly one worker process.

A strategy worker is started with ASIRIKUY_WORKER_SHARD=k (0 ≤ k < ASIRIKUY_STRATEGY_SHARDS) and the solo
pool. It consumes "account.<id>" for every account with id % shards == k, and picks up accounts created
later within REFRESH_SECONDS. One process per account queue means an account's runs never overlap and
an instance's framework state stays in that process.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import bootsteps

logger = logging.getLogger(__name__)
REFRESH_SECONDS = 10.0


def worker_shard() -> int | None:
    raw = os.environ.get("ASIRIKUY_WORKER_SHARD")
    return int(raw) if raw not in (None, "") else None


def shard_of(account_id: int) -> int:
    from django.conf import settings

    return account_id % settings.STRATEGY_SHARDS


class AccountQueues(bootsteps.StartStopStep):
    """Consumer step that subscribes this worker to its shard's account queues."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

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
            queue = f"account.{account_id}"
            if not c.task_consumer.consuming_from(queue):
                logger.info("shard %s now consumes %s", shard, queue)
                c.add_task_queue(queue)

    def stop(self, c: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None
