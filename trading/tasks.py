"""Celery tasks: thin wrappers that take ids and call one service.

Queues come from the router in ``trading/queues.py`` (pinned account queues, broker_io, backtests,
default); venue-specific tasks live with their venue (``trading/venues/<kind>/tasks.py``).
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from celery.signals import worker_ready

from brokers.errors import BrokerTemporaryError
from trading.queues import Queue


@shared_task(name="trading.tasks.execute_strategy", acks_late=True, reject_on_worker_lost=True, ignore_result=False)
def execute_strategy(instance_id: int) -> dict[str, Any]:
    from trading.services.execution import execution_run

    outcome = execution_run(instance_id=instance_id)
    return {"status": outcome.status, "execution_id": outcome.execution_id, "detail": outcome.detail}


@shared_task(name="trading.tasks.execute_bar_close", acks_late=True, reject_on_worker_lost=True, ignore_result=False)
def execute_bar_close(account_id: int, timeframe: int) -> dict[str, Any]:
    """Beat's bar-close run: every enabled instance of one account and timeframe, in one pass."""
    from trading.services.execution import execution_bar_close

    outcomes = execution_bar_close(account_id=account_id, timeframe=timeframe)
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    return {"account_id": account_id, "timeframe": timeframe, "outcomes": counts}


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
    acks_late=True,
    reject_on_worker_lost=True,
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


@shared_task(
    name="trading.tasks.account_sync",
    acks_late=True,
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


@shared_task(name="trading.tasks.orders_resolve_unknown", acks_late=True, ignore_result=True, expires=60)
def orders_resolve_unknown_task(account_id: int | None = None) -> dict[str, str]:
    from trading.services.orders.resolve import orders_resolve_unknown

    return {str(k): v for k, v in orders_resolve_unknown(account_id=account_id).items()}


@shared_task(
    name="trading.tasks.reconcile",
    acks_late=True,
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
