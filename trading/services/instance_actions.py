"""The manual switches of one instance, each audited: enable, disable, pause and resume entries, run now, delete.

Pausing keeps the instance running in monitor mode (it still manages its open trades, opens nothing new);
disabling stops its scheduled runs altogether.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from risk.models import AuditAction
from risk.services.audit import audit_record
from trading.models import OperationalMode, StrategyInstance
from trading.services.execution import execution_enqueue
from trading.services.instances import instance_delete, instance_set_enabled, instance_update


@transaction.atomic
def instance_enable(*, instance: StrategyInstance, user: Any, source: str) -> StrategyInstance:
    instance = instance_set_enabled(instance, True)
    audit_record(user=user, action=AuditAction.INSTANCE_ENABLE, obj=instance, source=source, details={"enabled": True})
    return instance


@transaction.atomic
def instance_disable(*, instance: StrategyInstance, user: Any, source: str) -> StrategyInstance:
    instance = instance_set_enabled(instance, False)
    audit_record(
        user=user, action=AuditAction.INSTANCE_DISABLE, obj=instance, source=source, details={"enabled": False}
    )
    return instance


@transaction.atomic
def instance_entries_pause(*, instance: StrategyInstance, user: Any, source: str) -> StrategyInstance:
    """Monitor mode: no new entries; exits, stops and the strategy's trade management go on."""
    instance = instance_update(instance, operational_mode=OperationalMode.MONITOR)
    audit_record(
        user=user,
        action=AuditAction.INSTANCE_PAUSE,
        obj=instance,
        source=source,
        details={"operational_mode": "monitor"},
    )
    return instance


@transaction.atomic
def instance_entries_resume(*, instance: StrategyInstance, user: Any, source: str) -> StrategyInstance:
    instance = instance_update(instance, operational_mode=OperationalMode.ENABLE)
    audit_record(
        user=user,
        action=AuditAction.INSTANCE_ENABLE,
        obj=instance,
        source=source,
        details={"operational_mode": "enable"},
    )
    return instance


def instance_run_now(*, instance: StrategyInstance, user: Any, source: str) -> str:
    """Queue a run of the instance on its account's worker now; returns the task id."""
    task_id = execution_enqueue(instance)
    audit_record(
        user=user, action=AuditAction.INSTANCE_RUN_NOW, obj=instance, source=source, details={"task_id": task_id}
    )
    return task_id


@transaction.atomic
def instance_remove(*, instance: StrategyInstance, user: Any, source: str) -> None:
    """Delete an instance that never traded, audited (the entry keeps its name and settings)."""
    details = {"name": instance.name, "strategy_id": instance.strategy_id, "parameters": instance.parameters}
    audit_record(user=user, action=AuditAction.INSTANCE_DELETE, obj=instance, source=source, details=details)
    instance_delete(instance)
