"""The daily summary, the beat entries that run the notifier, and one pass at a time."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from ops_support import T0, fill

from ops.events import EventKind
from ops.notify.channels import channel_create
from ops.notify.passes import LOCK_KEY, ops_daily_summary, ops_pass
from ops.notify.send import notifications_send


def test_the_daily_summary_gives_each_accounts_day_once(market, alice, webhook):
    from trading.models import Execution, Trade

    account, instance = market
    channel = channel_create(owner=alice, name="hook", url=webhook.url, events=[EventKind.DAILY_SUMMARY])
    closed = fill(account, instance).trade
    Trade.objects.filter(pk=closed.pk).update(
        state="closed", close_time=T0, realized_pl=Decimal("12.50"), financing=Decimal("-0.30"), close_price=closed.open_price
    )  # fmt: skip
    fill(account, instance, side="sell")  # still open
    Execution.objects.create(instance=instance, bar_time=T0, status="success", started_at=T0)
    Execution.objects.create(instance=instance, bar_time=T0 + timedelta(minutes=1), status="skipped", started_at=T0)
    after_the_day = T0.replace(hour=21, minute=5)  # 17:05 New York (EDT), the FX day of T0 has closed

    first = ops_daily_summary(now=after_the_day, enqueue=False)
    again = ops_daily_summary(now=after_the_day + timedelta(minutes=1), enqueue=False)
    notifications_send(channel_id=channel.pk)

    assert (first.events, again.events) == (1, 0)
    post = webhook.posts[0]
    assert post["title"] == "Alice paper: +12.2 USD on the FX day to 2024-03-12 21:00 UTC"
    assert "Closed trades: 1, P/L 12.2 USD" in post["message"]
    assert "  MA cross (#101): 12.2" in post["message"]
    assert "Open trades: 1; at risk to their stops 0 USD; 1 without a stop loss." in post["message"]
    assert "Runs: 2 (1 skipped, 1 success); orders filled: 2." in post["message"]


def test_beat_runs_the_notifier_every_few_seconds_and_the_summary_daily(db, settings):
    from django_celery_beat.models import PeriodicTask

    from trading.services.schedule import schedules_sync

    schedules_sync()

    notifier = PeriodicTask.objects.get(task="ops.tasks.ops_pass")
    summary = PeriodicTask.objects.get(task="ops.tasks.daily_summary")
    assert (notifier.queue, notifier.interval.every, notifier.interval.period) == (
        "default", settings.OPS_PASS_SECONDS, "seconds")  # fmt: skip
    assert (summary.crontab.hour, summary.crontab.minute, str(summary.crontab.timezone)) == (
        "17", "5", "America/New_York")  # fmt: skip


def test_a_pass_while_another_runs_does_nothing(db):
    from django.core.cache import cache

    cache.set(LOCK_KEY, "someone else", 30)
    try:
        result = ops_pass(enqueue=False)
    finally:
        cache.delete(LOCK_KEY)

    assert result.skipped == "another pass is running"
