"""Celery tasks: thin wrappers that take ids and call one service.

Queues come from the router in ``trading/queues.py`` (pinned account queues, broker_io, backtests,
default); venue-specific tasks live with their venue (``trading/venues/<kind>/tasks.py``).
"""

from __future__ import annotations

import time
from typing import Any

from celery import Task, shared_task
from celery.signals import worker_ready

from brokers.errors import BrokerTemporaryError
from trading.queues import Queue, account_queue


def _lease_held(account_id: int) -> bool:
    """A strategy worker runs an account's work only while it holds the account's lease. When it does not (it is
    giving the account up), the caller sends the task again, for the worker that holds it: the message was
    acknowledged as it started, so rejecting it would drop it. This worker stops consuming the queue within a
    second; the pause keeps the message from bouncing back here meanwhile."""
    from trading.leases import account_lease_held

    if account_lease_held(account_id):
        return True
    time.sleep(0.5)
    return False


# Strategy and I/O tasks are acknowledged as they start (see trading.queues._worker_policy): a run that dies is
# brought back by its claim rows and the sweepers within seconds, not by a redelivery 15 minutes later.
@shared_task(name="trading.tasks.execute_strategy", acks_late=False, ignore_result=False)
def execute_strategy(instance_id: int) -> dict[str, Any]:
    from trading.models import StrategyInstance
    from trading.services.execution import execution_run

    account_id = StrategyInstance.objects.filter(pk=instance_id).values_list("account_id", flat=True).first()
    if account_id is not None and not _lease_held(account_id):
        execute_strategy.apply_async(args=(instance_id,), queue=account_queue(account_id))
        return {"status": "handed_over", "execution_id": None, "detail": "the account is served by another worker"}

    outcome = execution_run(instance_id=instance_id)
    return {"status": outcome.status, "execution_id": outcome.execution_id, "detail": outcome.detail}


@shared_task(
    bind=True,
    name="trading.tasks.execute_bar_close",
    acks_late=False,
    ignore_result=False,
    max_retries=None,  # bounded by the bar instead: no retry once the bar is no longer current
)
def execute_bar_close(self: Task, account_id: int, timeframe: int, bar_time: str | None = None) -> dict[str, Any]:
    """Beat's bar-close run: every enabled instance of one account and timeframe, in one pass.

    ``bar_time`` (ISO-8601 UTC open time of the bar) fixes the bar; without it the bar is the newest one closed
    now. A database or Redis error retries the task with the bar fixed, backing off, for as long as the bar is
    current; a bar no longer current is recorded missed, never run late.
    """
    from django.utils import timezone

    from trading.services.bar_clock import last_closed_bar_open
    from trading.services.execution import execution_bar_close
    from trading.services.execution.infra import is_infrastructure_error
    from trading.services.execution.sweep import bar_is_current, bar_parse, executions_record_missed

    now = timezone.now()
    bar = bar_parse(bar_time) if bar_time else last_closed_bar_open(now, timeframe)
    result: dict[str, Any] = {"account_id": account_id, "timeframe": timeframe, "bar_time": bar.isoformat()}
    if not _lease_held(account_id):
        raise _retry_bar(self, account_id, timeframe, bar, 0, None)  # to the worker that holds the account
    if not bar_is_current(bar, timeframe, now):
        missed = executions_record_missed(
            account_id=account_id,
            timeframe=timeframe,
            bar_time=bar,
            reason="its bar-close task ran after the next bar had closed (delayed or retried too long)",
        )
        return {**result, "outcomes": {"missed": missed}}
    try:
        outcomes = execution_bar_close(account_id=account_id, timeframe=timeframe, now=now, bar_time=bar)
    except Exception as e:
        if not is_infrastructure_error(e):
            raise
        countdown = min(2.0 ** min(self.request.retries, 4), 10.0)
        raise _retry_bar(self, account_id, timeframe, bar, countdown, e) from e
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    # "busy": a run elsewhere holds the bar; if it dies, the sweeper re-queues the bar once its lease lapses.
    return {**result, "outcomes": counts}


def _retry_bar(task: Task, account_id: int, timeframe: int, bar: Any, countdown: float, exc: Exception | None) -> Any:
    """The same bar again in ``countdown`` seconds, expiring when the bar stops being current."""
    from trading.services.bar_clock import bar_close_time

    return task.retry(
        args=(account_id, timeframe),
        kwargs={"bar_time": bar.isoformat()},
        countdown=countdown,
        expires=bar_close_time(bar_close_time(bar, timeframe), timeframe),
        exc=exc,
    )


class DispatchTask(Task[Any, Any]):
    """Dispatch with an end: when its last retry fails, the orders it was sending end FAILED with the reason."""

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        from trading.services.orders.dispatch import orders_fail_unsent

        orders_fail_unsent(
            account_id=kwargs["account_id"],
            instrument_id=kwargs["instrument_id"],
            reason=f"not sent: the broker could not be reached after {self.max_retries} retries ({exc})",
        )


@shared_task(
    name="trading.tasks.orders_dispatch",
    acks_late=False,
    autoretry_for=(BrokerTemporaryError,),
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=6,
    base=DispatchTask,
)
def orders_dispatch_task(account_id: int, instrument_id: int) -> int:
    from trading.services.orders.dispatch import orders_dispatch

    return orders_dispatch(account_id=account_id, instrument_id=instrument_id)


@shared_task(name="trading.tasks.orders_fill", acks_late=False, ignore_result=True)
def orders_fill_task(account_id: int, instrument_ids: list[int]) -> int:
    """A paper account's fills after its bar close, on its pinned queue (behind the bar closes already queued)."""
    from trading.services.orders.dispatch import orders_fill

    return orders_fill(account_id=account_id, instrument_ids=instrument_ids)


@shared_task(
    name="trading.tasks.account_sync",
    acks_late=False,
    ignore_result=True,
    autoretry_for=(BrokerTemporaryError,),
    retry_backoff=2,
    max_retries=3,
    expires=60,
)
def account_sync_task(account_id: int) -> None:
    """A remote broker's state and history, between bar closes (on the account's pinned queue)."""
    from django.utils import timezone

    from trading.models import BrokerAccount
    from trading.services.account_sync import account_sync

    account_sync(BrokerAccount.objects.get(pk=account_id), now=timezone.now())


@shared_task(name="trading.tasks.orders_resolve_unknown", acks_late=False, ignore_result=True, expires=60)
def orders_resolve_unknown_task(account_id: int | None = None) -> dict[str, str]:
    from trading.services.orders.resolve import orders_resolve_unknown

    return {str(k): v for k, v in orders_resolve_unknown(account_id=account_id).items()}


@shared_task(
    name="trading.tasks.reconcile",
    acks_late=False,
    ignore_result=True,
    autoretry_for=(BrokerTemporaryError,),
    retry_backoff=2,
    max_retries=3,
)
def reconcile_task(account_id: int | None = None) -> dict[str, Any]:
    """Record differences between the broker and the database (changes nothing)."""
    from trading.services.reconcile import reconcile_detect, reconciled_accounts

    out: dict[str, Any] = {}
    for account in reconciled_accounts():
        if account_id is None or account.pk == account_id:
            report = reconcile_detect(account)
            out[str(account.pk)] = {"open": report.open, "new": report.new, "gone": report.gone}
    return out


@shared_task(name="trading.tasks.executions_sweep", acks_late=False, ignore_result=True)
def executions_sweep_task() -> dict[str, Any]:
    """Every few seconds: re-queue or finish bar closes whose run died or whose task was lost."""
    from trading.services.execution.sweep import executions_sweep

    report = executions_sweep()
    return {"requeued": len(report.requeued), "missed": report.missed, "failed": report.failed}


@shared_task(name="trading.tasks.orders_sweep", acks_late=False, ignore_result=True)
def orders_sweep_task() -> dict[str, int]:
    """Every few seconds: dispatch (or expire) orphaned NEW orders, park orphaned SUBMITTING ones for the resolver."""
    from trading.services.orders.sweep import orders_sweep

    return orders_sweep()


@shared_task(name="trading.tasks.noop")
def noop() -> bool:
    """Does nothing: a health ping and the floor of the bar-close benchmark."""
    return True


@worker_ready.connect
def _reconcile_on_start(sender: Any = None, **_: Any) -> None:
    """Reconciliation on start: a worker serving broker_io reports differences found while we were away."""
    try:
        queues = {q.name for q in sender.task_consumer.queues} if sender is not None else set()
    except AttributeError:
        return
    if Queue.BROKER_IO in queues:
        reconcile_task.apply_async()
