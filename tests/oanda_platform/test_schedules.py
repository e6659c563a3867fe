"""Beat entries for OANDA accounts and the bars their instances read."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from tests.support.fake_oanda import make_candles
from trading.venues.oanda.bars import bars_await_close


def test_schedule_sync_writes_broker_jobs_when_the_account_and_instance_are_created(oanda_account, oanda_instance):
    # No command: creating the account and the instance wrote every entry (the schedule has one owner).
    tasks = {t.task: t for t in PeriodicTask.objects.exclude(task="trading.tasks.execute_bar_close")}
    sync = tasks["trading.tasks.account_sync"]
    assert sync.name == f"account sync #{oanda_account.pk}"
    assert sync.queue == oanda_account.queue_name and sync.interval.every == 30 and sync.enabled
    assert json.loads(sync.args) == [oanda_account.pk]
    assert tasks["trading.tasks.orders_resolve_unknown"].queue == "broker_io"
    assert tasks["trading.tasks.reconcile"].interval.every == 3600
    bars = tasks["trading.tasks.oanda_bars_keep_current"]
    assert json.loads(bars.args) == [oanda_instance.instrument_id, 1] and bars.queue == "broker_io"
    assert {"paper: market tick", "risk: drawdown limits that close everything"} <= {t.name for t in tasks.values()}


def test_schedule_sync_is_idempotent_and_replaces_entries_of_the_earlier_layout(oanda_account, oanda_instance):
    PeriodicTask.objects.create(
        name=f"oanda history sync #{oanda_account.pk}",
        task="trading.tasks.oanda_account_sync",
        interval=PeriodicTask.objects.get(task="trading.tasks.account_sync").interval,
        args=json.dumps([oanda_account.pk]),
    )
    before = {t.name: t.date_changed for t in PeriodicTask.objects.exclude(task="trading.tasks.oanda_account_sync")}
    out = io.StringIO()

    call_command("oanda_schedules", stdout=out)  # the earlier command name still works
    call_command("schedules_sync", stdout=out)

    after = {t.name: t.date_changed for t in PeriodicTask.objects.all()}
    assert after == before  # the old entry is gone, nothing else was rewritten (beat does not reload)


def test_deleting_the_account_removes_its_broker_jobs(oanda_account, oanda_instance):
    oanda_instance.delete()  # instances protect their account
    oanda_account.delete()

    names = set(PeriodicTask.objects.values_list("name", flat=True))
    assert not {n for n in names if f"#{oanda_account.pk}" in n or n.startswith("oanda bars")}
    assert "paper: market tick" in names


def test_await_close_returns_once_the_closed_bar_is_stored(fake, oanda_account, oanda_eurusd):
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    fake.set_candles("EUR_USD", "M1", make_candles(start=now - timedelta(minutes=30), count=30))

    newest = bars_await_close(instrument=oanda_eurusd, timeframe=1, now=now, timeout=5, poll=0.1)

    assert newest == now - timedelta(minutes=1)
