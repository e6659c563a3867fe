"""Keeps each strategy instance's django-celery-beat entry in step with the instance.

Runs are timed to bar closes. Intraday timeframes close on UTC boundaries; H4, D1 and W1 follow the FX
day that rolls at 17:00 New York, so their crontabs are written in America/New_York and beat handles the
DST shift. Weekend and holiday closes are filtered again at run time (market_hours), since a crontab
cannot express "Friday 17:00 to Sunday 17:00 New York".
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from trading.models import BrokerAccount, OperationalMode, StrategyInstance, Timeframe

EXECUTE_TASK = "trading.tasks.execute_strategy"


@dataclass(frozen=True)
class BarCloseCrontab:
    minute: str
    hour: str
    day_of_week: str
    day_of_month: str
    timezone: str


_CRONTABS: dict[int, BarCloseCrontab] = {
    Timeframe.M1: BarCloseCrontab("*", "*", "*", "*", "UTC"),
    Timeframe.M5: BarCloseCrontab("*/5", "*", "*", "*", "UTC"),
    Timeframe.M15: BarCloseCrontab("*/15", "*", "*", "*", "UTC"),
    Timeframe.M30: BarCloseCrontab("*/30", "*", "*", "*", "UTC"),
    Timeframe.H1: BarCloseCrontab("0", "*", "*", "*", "UTC"),
    Timeframe.H4: BarCloseCrontab("0", "1,5,9,13,17,21", "*", "*", "America/New_York"),
    Timeframe.D1: BarCloseCrontab("0", "17", "1-5", "*", "America/New_York"),
    Timeframe.W1: BarCloseCrontab("0", "17", "5", "*", "America/New_York"),
    # A crontab cannot say "last day of the month": monthly runs start on day 1 at 17:00 New York.
    Timeframe.MN: BarCloseCrontab("0", "17", "*", "1", "America/New_York"),
}


def bar_close_crontab(timeframe: int) -> BarCloseCrontab:
    try:
        return _CRONTABS[timeframe]
    except KeyError as e:
        raise ValueError(f"timeframe {timeframe!r} has no bar-close schedule") from e


def _crontab_for(timeframe: int) -> CrontabSchedule:
    spec = bar_close_crontab(timeframe)
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=spec.minute, hour=spec.hour, day_of_week=spec.day_of_week, day_of_month=spec.day_of_month,
        month_of_year="*", timezone=spec.timezone,
    )
    return crontab


def instance_is_schedulable(instance: StrategyInstance) -> bool:
    return bool(
        instance.enabled and instance.account.enabled and instance.operational_mode != OperationalMode.DISABLE
    )


@transaction.atomic
def instance_schedule_sync(instance: StrategyInstance) -> PeriodicTask:
    """Create or update the instance's periodic task; it is disabled when the instance cannot run."""
    values = {
        "task": EXECUTE_TASK,
        "crontab": _crontab_for(instance.timeframe),
        "interval": None,
        "args": json.dumps([instance.instance_id]),
        "kwargs": "{}",
        "queue": instance.account.queue_name,
        "routing_key": instance.account.queue_name,
        # A run delivered after the next bar has closed would trade on stale data: let it expire.
        "expire_seconds": max(30, min(instance.timeframe * 60, 86400)),
        "enabled": instance_is_schedulable(instance),
        "description": f"Bar-close run of strategy instance {instance.instance_id} ({instance.name})",
    }
    task = instance.periodic_task
    if task is None:
        task = PeriodicTask.objects.filter(name=_task_name(instance)).first()
    if task is None:
        task = PeriodicTask.objects.create(name=_task_name(instance), **values)
    else:
        for key, value in values.items():
            setattr(task, key, value)
        task.save()
    if instance.periodic_task_id != task.id:
        instance.periodic_task = task
        instance.save(update_fields=["periodic_task"])
    return task


def account_schedules_sync(account: BrokerAccount) -> None:
    for instance in account.instances.select_related("account").all():
        instance_schedule_sync(instance)


def _task_name(instance: StrategyInstance) -> str:
    return f"execute_strategy #{instance.instance_id}"
