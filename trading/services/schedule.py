"""The one owner of the beat schedule. Bar closes here: one entry per (account, timeframe) with instances.

Every other entry (venues' jobs, per-account broker jobs, risk) is written by ``beat_jobs``; ``schedules_sync``
runs both, after every ``migrate`` and every change of an instance or account.

Beat sends one task per account and timeframe at each bar close (``trading.tasks.execute_bar_close``) on the
account's pinned queue; that task runs every enabled instance of the pair in one pass (execution.batch).

Runs are timed to bar closes. Intraday timeframes close on UTC boundaries; H4, D1 and W1 follow the FX
day that rolls at 17:00 New York, so their crontabs are written in America/New_York and beat handles the
DST shift. Weekend and holiday closes are filtered again at run time (market_hours), since a crontab
cannot express "Friday 17:00 to Sunday 17:00 New York".
"""

from __future__ import annotations

import json

from django.db import transaction
from django.db.models import Count, Q
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from trading.models import BrokerAccount, OperationalMode, StrategyInstance, Timeframe
from trading.queues import account_queue
from trading.services.periodic import Crontab

EXECUTE_TASK = "trading.tasks.execute_bar_close"
# The earlier layout: one periodic task per instance, named "execute_strategy #<instance id>".
LEGACY_TASK = "trading.tasks.execute_strategy"
LEGACY_PREFIX = "execute_strategy #"


_CRONTABS: dict[int, Crontab] = {
    Timeframe.M1: Crontab("*", "*", "*", "*"),
    Timeframe.M5: Crontab("*/5", "*", "*", "*"),
    Timeframe.M15: Crontab("*/15", "*", "*", "*"),
    Timeframe.M30: Crontab("*/30", "*", "*", "*"),
    Timeframe.H1: Crontab("0", "*", "*", "*"),
    Timeframe.H4: Crontab("0", "1,5,9,13,17,21", "*", "*", timezone="America/New_York"),
    Timeframe.D1: Crontab("0", "17", "1-5", "*", timezone="America/New_York"),
    Timeframe.W1: Crontab("0", "17", "5", "*", timezone="America/New_York"),
    # A crontab cannot say "last day of the month": monthly runs start on day 1 at 17:00 New York.
    Timeframe.MN: Crontab("0", "17", "*", "1", timezone="America/New_York"),
}


def bar_close_crontab(timeframe: int) -> Crontab:
    try:
        return _CRONTABS[timeframe]
    except KeyError as e:
        raise ValueError(f"timeframe {timeframe!r} has no bar-close schedule") from e


def _crontab_for(timeframe: int) -> CrontabSchedule:
    spec = bar_close_crontab(timeframe)
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=spec.minute,
        hour=spec.hour,
        day_of_week=spec.day_of_week,
        day_of_month=spec.day_of_month,
        month_of_year=spec.month_of_year,
        timezone=spec.timezone,
    )
    return crontab


# One rule for "this instance may run at a bar close", as a query (the schedule) and per instance (the batch).
RUNNABLE = Q(enabled=True, account__enabled=True) & ~Q(operational_mode=OperationalMode.DISABLE)


def instance_is_runnable(instance: StrategyInstance) -> bool:
    return bool(instance.enabled and instance.account.enabled and instance.operational_mode != OperationalMode.DISABLE)


def bar_close_task_name(account_id: int, timeframe: int) -> str:
    label = Timeframe(timeframe).label if timeframe in Timeframe.values else f"{timeframe}m"
    return f"bar close: account {account_id} {label}"


def _task_key(task: PeriodicTask) -> tuple[int, int] | None:
    try:
        account_id, timeframe = json.loads(task.args)
        return int(account_id), int(timeframe)
    except (ValueError, TypeError):
        return None


@transaction.atomic
def bar_close_schedules_sync() -> dict[tuple[int, int], PeriodicTask]:
    """Exactly one periodic task per (account, timeframe) that has instances; none for the others.

    A task is enabled while at least one of its instances can run, disabled while none can, and deleted
    once no instance is left. Per-instance tasks of the earlier layout are deleted. Idempotent, and cheap
    enough (a handful of reads; writes only for what changed) to run after every change of an instance or
    account, so moves between accounts or timeframes, deletes and enable switches all end in the same state.
    """
    wanted = {
        (row["account_id"], row["timeframe"]): row["runnable"] > 0
        for row in StrategyInstance.objects.order_by()
        .values("account_id", "timeframe")
        .annotate(runnable=Count("pk", filter=RUNNABLE))
    }
    accounts = set(BrokerAccount.objects.filter(pk__in={a for a, _ in wanted}).values_list("pk", flat=True))
    existing: dict[tuple[int, int], PeriodicTask] = {}
    for task in PeriodicTask.objects.select_for_update().filter(task=EXECUTE_TASK):
        key = _task_key(task)
        if key is None or key not in wanted or key in existing or task.name != bar_close_task_name(*key):
            task.delete()  # no instance left for it (or a stray copy)
        else:
            existing[key] = task
    PeriodicTask.objects.filter(task=LEGACY_TASK, name__startswith=LEGACY_PREFIX).delete()
    crontabs: dict[int, CrontabSchedule] = {}
    out = {}
    for (account_id, timeframe), enabled in wanted.items():
        if account_id not in accounts:
            continue
        if timeframe not in crontabs:
            crontabs[timeframe] = _crontab_for(timeframe)
        out[(account_id, timeframe)] = _task_put(
            existing.get((account_id, timeframe)), account_id, timeframe, enabled, crontabs[timeframe]
        )
    _link(out)
    return out


def _link(tasks: dict[tuple[int, int], PeriodicTask]) -> None:
    """Point each instance at its pair's task; only the rows that differ are written."""
    stale: dict[tuple[int, int], list[int]] = {}
    for pk, account_id, timeframe, task_id in StrategyInstance.objects.values_list(
        "pk", "account_id", "timeframe", "periodic_task_id"
    ):
        task = tasks.get((account_id, timeframe))
        if task is not None and task.pk != task_id:
            stale.setdefault((account_id, timeframe), []).append(pk)
    for key, pks in stale.items():
        StrategyInstance.objects.filter(pk__in=pks).update(periodic_task=tasks[key])


def _task_put(
    task: PeriodicTask | None, account_id: int, timeframe: int, enabled: bool, crontab: CrontabSchedule
) -> PeriodicTask:
    queue = account_queue(account_id)
    values = {
        "task": EXECUTE_TASK,
        "crontab_id": crontab.pk,
        "interval_id": None,
        "args": json.dumps([account_id, timeframe]),
        "kwargs": "{}",
        "queue": queue,
        "routing_key": queue,
        # A run delivered after the next bar has closed would trade on stale data: let it expire.
        "expire_seconds": max(30, min(timeframe * 60, 86400)),
        "enabled": enabled,
        "description": f"Bar-close runs of every {Timeframe(timeframe).label} instance of account {account_id}",
    }
    if task is None:
        return PeriodicTask.objects.create(name=bar_close_task_name(account_id, timeframe), **values)
    changed = [key for key, value in values.items() if getattr(task, key) != value]
    if changed:  # saving tells beat to reload its schedule: only when something changed
        for key in changed:
            setattr(task, key, values[key])
        task.save()
    return task


def schedules_sync() -> None:
    """The whole beat schedule in step with the database: bar closes, then every other entry."""
    from trading.services.beat_jobs import beat_jobs_sync

    bar_close_schedules_sync()
    beat_jobs_sync()


def instance_schedule_sync(instance: StrategyInstance) -> PeriodicTask | None:
    """Bring the schedule in step after ``instance`` changed; returns the task that runs it."""
    from trading.services.beat_jobs import beat_jobs_sync

    task = bar_close_schedules_sync().get((instance.account_id, instance.timeframe))
    beat_jobs_sync()  # venues may schedule per instrument and timeframe (OANDA's candle fetch)
    instance.periodic_task = task
    return task


def account_schedules_sync(account: BrokerAccount) -> None:
    schedules_sync()


def schedules_sync_receiver(**_: object) -> None:
    """Signal receiver: re-sync the schedule (in the sender's transaction, so it rolls back with it).

    Connected to instance and account deletes (admin, API, shell alike) and to post_migrate, so every beat
    entry exists after ``migrate`` and the entries of earlier layouts are converted the first time it runs.
    """
    schedules_sync()
