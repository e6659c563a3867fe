"""Ops tasks (default queue): the notifier/watchdog pass, one channel's sending, the daily summary."""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(name="ops.tasks.ops_pass", ignore_result=True, acks_late=False)
def ops_pass_task() -> dict[str, Any]:
    from ops.notify.passes import ops_pass

    result = ops_pass()
    return {"events": result.events, "channels": result.channels_due, "skipped": result.skipped}


@shared_task(name="ops.tasks.notifications_send", ignore_result=True, acks_late=False)
def notifications_send_task(channel_id: int) -> dict[str, int]:
    """Send a channel's due messages; retries and back-off are the channel's own (ops.notify.send)."""
    from ops.notify.send import notifications_send

    return notifications_send(channel_id=channel_id)


@shared_task(name="ops.tasks.daily_summary", ignore_result=True)
def daily_summary_task() -> dict[str, Any]:
    from ops.notify.passes import ops_daily_summary

    result = ops_daily_summary()
    return {"events": result.events, "channels": result.channels_due}
