"""The ops beat entries, written by the one schedule sync (``trading.services.beat_jobs``)."""

from __future__ import annotations

from django.conf import settings

from trading.queues import Queue
from trading.services.periodic import Crontab, PeriodicJob

# 17:05 New York, Monday to Friday: just after each FX day closes (the Friday one closes the week).
DAILY_SUMMARY = Crontab(minute="5", hour="17", day_of_week="1-5", timezone="America/New_York")


def ops_jobs() -> list[PeriodicJob]:
    seconds = settings.OPS_PASS_SECONDS
    return [
        PeriodicJob(
            name="ops: notifications and watchdog",
            task="ops.tasks.ops_pass",
            queue=Queue.DEFAULT,
            every_seconds=seconds,
            expire_seconds=max(seconds, 5),
            description="Events since the last pass (fills, closes, failed or missed runs, blocks, kill switch, "
            "discrepancies), processes, queues, price streams, drawdowns → messages per channel",
        ),
        PeriodicJob(
            name="ops: daily summary",
            task="ops.tasks.daily_summary",
            queue=Queue.DEFAULT,
            crontab=DAILY_SUMMARY,
            expire_seconds=3600,
            description="P/L per account and instance over the FX day that just ended, open risk",
        ),
    ]
