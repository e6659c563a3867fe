"""The end of a batch: orders and execution rows in one transaction, then the dispatch after the commit.

The write is fenced: inside its transaction it locks the rows this process still holds (``executions_fence``),
and only those runs write orders and results; a run whose lease lapsed and was taken over writes nothing. When
the batch write fails for a reason of the data, each instance is written on its own, so one bad row stays one.
When it fails because the database is away, the error goes up (the task retries the bar). Rows that could not
be finished are finished on a second, fresh connection; the sweeper is the backstop after that.
"""

from __future__ import annotations

import logging
import time

from django.db import transaction

from trading.models import BrokerAccount, ExecutionStatus, Order
from trading.services.execution.claim import executions_finish
from trading.services.execution.infra import connection_reset, is_infrastructure_error
from trading.services.execution.jobs import Job, RunOutcome, job_fail
from trading.services.execution.lease import executions_fence, executions_release
from trading.services.orders.dispatch import orders_dispatch_many_after_commit

logger = logging.getLogger(__name__)


def batch_write(
    jobs: list[Job], account: BrokerAccount, shared_seconds: float, write_started: float | None = None
) -> None:
    """All orders and execution rows in one transaction; per instance when that fails, so one bad row stays one."""
    try:
        with transaction.atomic():
            _write_rows(jobs, account, shared_seconds, write_started)
    except Exception as e:
        if is_infrastructure_error(e):
            raise
        logger.exception("account %s: batch write failed; writing each instance on its own", account.pk)
        for job in jobs:
            try:
                with transaction.atomic():
                    _write_rows([job], account, shared_seconds, write_started)
            except Exception as e:
                if is_infrastructure_error(e):
                    raise
                logger.exception("instance %s: writing the run failed", job.instance.instance_id)
                job_fail(job, status=ExecutionStatus.FAILED, error=f"recording the run failed: {type(e).__name__}: {e}")
                finish_rows([job], 0.0, None)


def _write_rows(jobs: list[Job], account: BrokerAccount, shared_seconds: float, write_started: float | None) -> None:
    held = executions_fence([job.execution.pk for job in jobs if job.execution is not None])
    kept: list[Job] = []
    for job in jobs:
        execution = job.execution
        assert execution is not None
        if execution.pk in held:
            kept.append(job)
            continue
        # Our lease lapsed and another run (or the sweeper) owns the bar now: write nothing for it.
        job.orders = []
        job.outcome = RunOutcome("duplicate", execution.pk, "claim lost: the bar was taken over after our lease lapsed")
    if not kept:
        return
    orders = [order for job in kept for order in job.orders]
    # A client id that already exists (a run that committed its orders, then lost its claim) is skipped.
    Order.objects.bulk_create(orders, ignore_conflicts=True)
    for job in kept:
        execution = job.execution
        assert execution is not None
        if execution.status == ExecutionStatus.SUCCESS:
            execution.orders_placed = (
                len(job.orders) if execution.attempts == 1 else Order.objects.filter(execution=execution).count()
            )
    _finish(kept, shared_seconds, write_started)
    orders_dispatch_many_after_commit(
        account=account, instrument_ids=list(dict.fromkeys(order.instrument_id for order in orders))
    )


def _finish(jobs: list[Job], shared_seconds: float, write_started: float | None) -> None:
    # Shared work (account sync, quotes, the write itself) is charged in equal shares to the batch's runs.
    write_seconds = time.perf_counter() - write_started if write_started is not None else 0.0
    share = (shared_seconds + write_seconds) / len(jobs)
    executions = []
    for job in jobs:
        execution = job.execution
        assert execution is not None
        execution.duration_ms = (job.own_seconds + share) * 1000.0
        executions.append(execution)
    executions_finish(executions)


def finish_rows(jobs: list[Job], shared_seconds: float, write_started: float | None) -> bool:
    """Finish ``jobs``' rows outside the batch transaction; a second try on a fresh connection when the first
    fails (its connection may be the broken one). False when both failed: the leases lapse and the sweeper
    finishes the rows."""
    for attempt in (1, 2):
        try:
            _finish(jobs, shared_seconds, write_started)
            return True
        except Exception:
            logger.warning("finishing %d execution rows failed (attempt %d)", len(jobs), attempt, exc_info=True)
            connection_reset()
    return False


def claims_give_back(jobs: list[Job]) -> None:
    """The database or Redis failed under the batch: give its claims back so the retry takes them at once."""
    ids = [job.execution.pk for job in jobs if job.execution is not None]
    for attempt in (1, 2):
        try:
            executions_release(ids)
            return
        except Exception:
            logger.warning("releasing %d claims failed (attempt %d); they lapse on their own", len(ids), attempt)
            connection_reset()
