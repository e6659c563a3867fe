"""Beat entries for OANDA accounts and the bars their instances read."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from brokers.oanda.fake import make_candles
from trading.services.oanda.bars import bars_await_close


def test_oanda_schedules_writes_sync_resolver_reconcile_and_bar_entries(oanda_account, oanda_instance):
    out = io.StringIO()

    call_command("oanda_schedules", stdout=out)
    call_command("oanda_schedules", stdout=out)  # safe to run again

    tasks = {t.task: t for t in PeriodicTask.objects.filter(name__startswith="oanda")}
    assert set(tasks) == {
        "trading.tasks.oanda_account_sync",
        "trading.tasks.oanda_orders_resolve",
        "trading.tasks.oanda_reconcile",
        "trading.tasks.oanda_bars_keep_current",
    }
    sync = tasks["trading.tasks.oanda_account_sync"]
    assert sync.queue == oanda_account.queue_name and sync.interval.every == 30 and sync.enabled
    assert json.loads(tasks["trading.tasks.oanda_bars_keep_current"].args) == [oanda_instance.instrument_id, 1]
    assert PeriodicTask.objects.filter(name__startswith="oanda").count() == 4


def test_await_close_returns_once_the_closed_bar_is_stored(fake, oanda_account, oanda_eurusd):
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    fake.set_candles("EUR_USD", "M1", make_candles(start=now - timedelta(minutes=30), count=30))

    newest = bars_await_close(instrument=oanda_eurusd, timeframe=1, now=now, timeout=5, poll=0.1)

    assert newest == now - timedelta(minutes=1)
