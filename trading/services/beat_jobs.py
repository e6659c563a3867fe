"""Every beat entry that is not a bar close, written from one list: venues' jobs, per-account broker jobs, risk.

The platform owns the beat entries of the tasks in ``OWNED_TASKS``: the sync creates the ones wanted now,
updates those that differ (only those: saving a row makes beat reload its schedule), and deletes entries
of owned tasks that are no longer wanted (an account removed, a renamed job of an earlier version).
Entries of other tasks (added by hand in the admin) are left alone.
"""

from __future__ import annotations

import json

from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from trading.models import BrokerAccount
from trading.queues import Queue, account_queue
from trading.services.periodic import EVERY_MINUTE, Crontab, PeriodicJob

SYNC_SECONDS = 30
RESOLVE_SECONDS = 30
RECONCILE_SECONDS = 3600
SWEEP_SECONDS = 5

# Tasks only the platform schedules. Earlier versions' names are here so their entries are removed.
OWNED_TASKS = frozenset(
    {
        "trading.tasks.market_tick",
        "trading.tasks.account_sync",
        "trading.tasks.orders_resolve_unknown",
        "trading.tasks.reconcile",
        "trading.tasks.oanda_bars_keep_current",
        "trading.tasks.ctrader_bars_keep_current",
        "risk.tasks.orders_release_queued",
        "risk.tasks.limits_enforce",
        "trading.tasks.executions_sweep",
        "trading.tasks.orders_sweep",
        # earlier names of the broker jobs (OANDA only then)
        "trading.tasks.oanda_account_sync",
        "trading.tasks.oanda_orders_resolve",
        "trading.tasks.oanda_reconcile",
    }
)


def platform_jobs() -> list[PeriodicJob]:
    """Jobs that do not depend on a broker kind."""
    from ops.beat import ops_jobs

    return [
        *ops_jobs(),
        PeriodicJob(
            name="sweep: bar closes whose run died or whose task was lost",
            task="trading.tasks.executions_sweep",
            queue=Queue.DEFAULT,
            every_seconds=SWEEP_SECONDS,
            expire_seconds=SWEEP_SECONDS,
            description="Re-queue a current bar whose run died or never ran; record it missed once it is not current",
        ),
        PeriodicJob(
            name="sweep: orders whose dispatcher died",
            task="trading.tasks.orders_sweep",
            queue=Queue.BROKER_IO,
            every_seconds=SWEEP_SECONDS,
            expire_seconds=SWEEP_SECONDS,
            description="Dispatch (or expire) orphaned NEW orders; park orphaned SUBMITTING ones for the resolver",
        ),
        PeriodicJob(
            name="risk: release orders queued while the market was closed",
            task="risk.tasks.orders_release_queued",
            queue=Queue.BROKER_IO,
            crontab=EVERY_MINUTE,
            expire_seconds=55,
            description="Send orders held while their market was closed, once it is open",
        ),
        PeriodicJob(
            name="risk: drawdown limits that close everything",
            task="risk.tasks.limits_enforce",
            queue=Queue.DEFAULT,
            crontab=EVERY_MINUTE,
            expire_seconds=55,
            description="Close every position of a scope whose drawdown reached its close-everything limit",
        ),
    ]


def account_jobs(account: BrokerAccount) -> list[PeriodicJob]:
    """The broker jobs of one account, from its venue's capabilities."""
    from trading.venues import venue_class

    caps = venue_class(account.broker).capabilities
    enabled = account.enabled and (account.has_token or not caps.needs_token)
    args = (account.pk,)
    jobs = []
    if caps.history:
        jobs.append(
            PeriodicJob(
                name=f"account sync #{account.pk}",
                task="trading.tasks.account_sync",
                queue=account_queue(account.pk),
                args=args,
                every_seconds=SYNC_SECONDS,
                expire_seconds=SYNC_SECONDS,
                enabled=enabled,
                description=f"Broker state and transactions since the last seen id ({account.name})",
            )
        )
    if caps.lost_answers:
        jobs.append(
            PeriodicJob(
                name=f"unknown orders #{account.pk}",
                task="trading.tasks.orders_resolve_unknown",
                queue=Queue.BROKER_IO,
                args=args,
                every_seconds=RESOLVE_SECONDS,
                expire_seconds=RESOLVE_SECONDS,
                enabled=enabled,
                description="Look up orders whose answer was lost; place only those the broker provably lacks",
            )
        )
    if caps.reconciles:
        jobs.append(
            PeriodicJob(
                name=f"reconcile #{account.pk}",
                task="trading.tasks.reconcile",
                queue=Queue.BROKER_IO,
                args=args,
                every_seconds=RECONCILE_SECONDS,
                enabled=enabled,
                description="Report differences between broker and database (changes nothing)",
            )
        )
    return jobs


def wanted_jobs() -> list[PeriodicJob]:
    """Every job the platform wants scheduled right now."""
    from trading.venues import venue_kinds

    jobs = platform_jobs()
    for venue in venue_kinds():
        jobs += venue.periodic_jobs()
    # Only the columns the jobs need: this also runs after ``migrate`` to an earlier state (post_migrate), when
    # columns added later do not exist yet.
    for account in BrokerAccount.objects.order_by("pk").only("pk", "name", "broker", "enabled", "token_encrypted"):
        jobs += account_jobs(account)
    return jobs


@transaction.atomic
def beat_jobs_sync() -> dict[str, PeriodicTask]:
    """Write ``wanted_jobs()`` to beat; remove entries of owned tasks that are no longer wanted."""
    jobs = {job.name: job for job in wanted_jobs()}
    owned = OWNED_TASKS | {job.task for job in jobs.values()}
    existing = {t.name: t for t in PeriodicTask.objects.select_for_update().filter(task__in=owned)}
    for name, task in existing.items():
        if name not in jobs:
            task.delete()
    intervals: dict[int, int] = {}
    crontabs: dict[Crontab, int] = {}
    out = {}
    for name, job in jobs.items():
        values: dict[str, object] = {
            "task": job.task,
            "args": json.dumps(list(job.args)),
            "kwargs": "{}",
            "queue": str(job.queue),
            "routing_key": str(job.queue),
            "expire_seconds": job.expire_seconds,
            "enabled": job.enabled,
            "description": job.description,
            "interval_id": _interval(job.every_seconds, intervals) if job.every_seconds is not None else None,
            "crontab_id": _crontab(job.crontab, crontabs) if job.crontab is not None else None,
        }
        out[name] = _put(existing.get(name), name, values)
    return out


def _interval(seconds: int, known: dict[int, int]) -> int:
    if seconds not in known:
        row, _ = IntervalSchedule.objects.get_or_create(every=seconds, period=IntervalSchedule.SECONDS)
        known[seconds] = row.pk
    return known[seconds]


def _crontab(spec: Crontab, known: dict[Crontab, int]) -> int:
    if spec not in known:
        row, _ = CrontabSchedule.objects.get_or_create(
            minute=spec.minute,
            hour=spec.hour,
            day_of_week=spec.day_of_week,
            day_of_month=spec.day_of_month,
            month_of_year=spec.month_of_year,
            timezone=spec.timezone,
        )
        known[spec] = row.pk
    return known[spec]


def _put(task: PeriodicTask | None, name: str, values: dict[str, object]) -> PeriodicTask:
    if task is None:
        return PeriodicTask.objects.create(name=name, **values)
    changed = [key for key, value in values.items() if getattr(task, key) != value]
    if changed:
        for key in changed:
            setattr(task, key, values[key])
        task.save()
    return task
