"""Beat entries for OANDA accounts: history sync, UNKNOWN-order resolver and reconciliation.

``manage.py oanda_schedules`` writes them for every OANDA account (run it after adding an account; it is
safe to run again). The sync runs on the account's pinned queue, so it never overlaps a strategy run of
that account; the resolver and reconciliation run on broker_io.
"""

from __future__ import annotations

import json

from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from trading.models import Broker, BrokerAccount

SYNC_SECONDS = 30
RESOLVE_SECONDS = 30
RECONCILE_SECONDS = 3600


def _every(seconds: int) -> IntervalSchedule:
    interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period=IntervalSchedule.SECONDS)
    return interval


def _upsert(name: str, **values: object) -> PeriodicTask:
    task, _ = PeriodicTask.objects.update_or_create(name=name, defaults=values)
    return task


@transaction.atomic
def oanda_schedules_sync(account: BrokerAccount) -> list[PeriodicTask]:
    """Create or update the account's OANDA beat entries; disabled when the account is."""
    enabled = bool(account.broker == Broker.OANDA and account.enabled and account.has_token)
    args = json.dumps([account.pk])
    return [
        _upsert(
            f"oanda history sync #{account.pk}",
            task="trading.tasks.oanda_account_sync",
            interval=_every(SYNC_SECONDS),
            args=args,
            queue=account.queue_name,
            routing_key=account.queue_name,
            expire_seconds=SYNC_SECONDS,
            enabled=enabled,
            description=f"Transactions since the last seen id, every {SYNC_SECONDS}s ({account.name})",
        ),
        _upsert(
            f"oanda unknown orders #{account.pk}",
            task="trading.tasks.oanda_orders_resolve",
            interval=_every(RESOLVE_SECONDS),
            args=args,
            queue="broker_io",
            routing_key="broker_io",
            expire_seconds=RESOLVE_SECONDS,
            enabled=enabled,
            description="Look up orders whose answer was lost; place only those the broker provably lacks",
        ),
        _upsert(
            f"oanda reconcile #{account.pk}",
            task="trading.tasks.oanda_reconcile",
            interval=_every(RECONCILE_SECONDS),
            args=args,
            queue="broker_io",
            routing_key="broker_io",
            enabled=enabled,
            description="Report differences between broker and database (changes nothing)",
        ),
    ]


def oanda_bar_schedules_sync() -> int:
    """One bar-close entry per (instrument, timeframe) that enabled OANDA instances read: fetch the new bar."""
    from trading.models import StrategyInstance
    from trading.services.schedule import _crontab_for

    wanted = set(
        StrategyInstance.objects.filter(account__broker=Broker.OANDA, enabled=True).values_list(
            "instrument_id", "timeframe"
        )
    )
    names = []
    for instrument_id, timeframe in sorted(wanted):
        name = f"oanda bars {instrument_id}/{timeframe}"
        names.append(name)
        _upsert(
            name,
            task="trading.tasks.oanda_bars_keep_current",
            crontab=_crontab_for(timeframe),
            interval=None,
            args=json.dumps([instrument_id, timeframe]),
            queue="broker_io",
            routing_key="broker_io",
            expire_seconds=max(30, min(timeframe * 60, 3600)),
            enabled=True,
            description="Fetch the bar that just closed from OANDA (waits, bounded, for a late candle)",
        )
    PeriodicTask.objects.filter(name__startswith="oanda bars ").exclude(name__in=names).update(enabled=False)
    return len(names)


def oanda_schedules_sync_all() -> int:
    count = 0
    for account in BrokerAccount.objects.filter(broker=Broker.OANDA):
        oanda_schedules_sync(account)
        count += 1
    oanda_bar_schedules_sync()
    return count
