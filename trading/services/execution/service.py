"""Strategy runs at bar close: the account's batch (what beat sends) and one instance (run now).

Idempotent per (instance, bar): the Execution row is claimed first; a second delivery of the same bar
finds the claim and does nothing. Orders carry client ids derived from (instance, bar, row, intent),
and the order table's unique constraint makes a duplicate impossible even if two runs raced.
A strategy error is recorded on the execution; it never escapes to the worker loop.

A single run is a batch of one (``execution.batch``), so there is one implementation of a run.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from trading.models import StrategyInstance
from trading.services.execution.batch import RunOutcome, execution_bar_close, execution_batch_run

__all__ = ["RunOutcome", "execution_bar_close", "execution_enqueue", "execution_run"]


def execution_run(*, instance_id: int, now: datetime | None = None) -> RunOutcome:
    """Run ``instance_id`` for the bar that closed at ``now``."""
    instance = StrategyInstance.objects.select_related("account", "instrument").filter(pk=instance_id).first()
    if instance is None:
        return RunOutcome("not_runnable", detail=f"instance {instance_id} does not exist", instance_id=instance_id)
    return execution_batch_run([instance], now=now or timezone.now())[0]


def execution_enqueue(instance: StrategyInstance) -> str:
    """Run now: send the instance's task to its account's pinned queue."""
    from trading.tasks import execute_strategy

    result = execute_strategy.apply_async(args=(instance.instance_id,), queue=instance.account.queue_name)
    return str(result.id)
