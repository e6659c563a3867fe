"""Delivery through apprise: one channel at a time, oldest message first, backing off as a whole when it fails.

Each message is claimed (PENDING → SENDING by a conditional UPDATE), so two senders never send it twice. A
failure stops the channel's pass and sets ``retry_at`` (15 s, doubling up to 30 min); the message is tried
again then, and given up after OPS_SEND_MAX_ATTEMPTS tries. The failure (what the service answered, secrets
removed) stays on the channel, where the admin, the API and the dashboard show it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import apprise
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from ops.events import Severity, clip
from ops.logs import redact
from ops.models import Notification, NotificationChannel, NotificationStatus
from ops.notify.channels import channel_url

logger = logging.getLogger(__name__)
FIRST_BACKOFF = timedelta(seconds=15)
MAX_BACKOFF = timedelta(minutes=30)
STUCK = timedelta(minutes=5)  # a SENDING claim this old belongs to a sender that died
PER_PASS = 50
_TYPES: dict[str, apprise.NotifyType] = {
    Severity.INFO: apprise.NotifyType.INFO,
    Severity.SUCCESS: apprise.NotifyType.SUCCESS,
    Severity.WARNING: apprise.NotifyType.WARNING,
    Severity.ERROR: apprise.NotifyType.FAILURE,
}


def backoff(failures: int) -> timedelta:
    return min(FIRST_BACKOFF * (2 ** max(failures - 1, 0)), MAX_BACKOFF)


def _send(url: str, note: Notification) -> str | None:
    """None when the service took the message; else what went wrong (no secret in it)."""
    client = apprise.Apprise()
    if not client.add(url):
        return "apprise does not understand the stored URL any more; enter it again"
    result = client.notify(
        body=note.body or note.title,
        title=note.title,
        notify_type=_TYPES.get(note.severity, apprise.NotifyType.INFO),
        timeout=settings.OPS_SEND_TIMEOUT_SECONDS,
    )
    if result:
        return None
    said = "; ".join(dict.fromkeys(str(entry.message) for entry in result.logs() if entry.message))
    return clip(redact(said or f"the service refused the message ({result.status.name})"), 300)


def notification_deliver(
    note: Notification, channel: NotificationChannel, *, now: datetime, test: bool = False
) -> Notification:
    """Send one claimed message and record the outcome on it and on its channel."""
    from ops.metrics.registry import NOTIFICATIONS

    try:
        error = _send(channel_url(channel), note)
    except Exception as e:  # a broken plugin or a key that cannot decrypt: recorded, never raised into the pass
        error = clip(redact(f"{type(e).__name__}: {e}"), 300)
    attempts = note.attempts + 1
    if error is None:
        Notification.objects.filter(pk=note.pk).update(
            status=NotificationStatus.SENT, attempts=attempts, sent_at=timezone.now(), last_error=""
        )
        NotificationChannel.objects.filter(pk=channel.pk).update(failures=0, retry_at=None, last_sent_at=timezone.now())
        NOTIFICATIONS.labels(channel.service or "unknown", "sent").inc()
    else:
        retry_at = now + backoff(channel.failures + 1)
        gave_up = test or attempts >= settings.OPS_SEND_MAX_ATTEMPTS
        Notification.objects.filter(pk=note.pk).update(
            status=NotificationStatus.FAILED if gave_up else NotificationStatus.PENDING,
            attempts=attempts,
            next_attempt_at=retry_at,
            last_error=error,
        )
        NotificationChannel.objects.filter(pk=channel.pk).update(
            failures=F("failures") + 1,
            retry_at=retry_at,
            last_error=error,
            last_error_at=timezone.now(),
        )
        if gave_up:
            NOTIFICATIONS.labels(channel.service or "unknown", "failed").inc()
        logger.warning("channel %s (%s): message %s not sent: %s", channel.pk, channel.service, note.pk, error)
    note.refresh_from_db()
    return note


def notifications_send(*, channel_id: int, now: datetime | None = None) -> dict[str, int]:
    """Send the channel's due messages, oldest first, until one fails; returns counts by outcome."""
    now = now or timezone.now()
    out = {"sent": 0, "failed": 0}
    Notification.objects.filter(
        channel_id=channel_id, status=NotificationStatus.SENDING, claimed_at__lt=now - STUCK
    ).update(status=NotificationStatus.PENDING)
    for _ in range(PER_PASS):
        channel = NotificationChannel.objects.filter(pk=channel_id, enabled=True).first()
        if channel is None or (channel.retry_at is not None and channel.retry_at > now):
            break
        note = (
            Notification.objects.filter(
                channel_id=channel_id, status=NotificationStatus.PENDING, next_attempt_at__lte=now
            )
            .order_by("pk")
            .first()
        )
        if note is None:
            break
        claimed = Notification.objects.filter(pk=note.pk, status=NotificationStatus.PENDING).update(
            status=NotificationStatus.SENDING, claimed_at=timezone.now()
        )
        if not claimed:
            continue
        note = notification_deliver(note, channel, now=now)
        if note.status == NotificationStatus.SENT:
            out["sent"] += 1
        else:
            out["failed"] += 1
            break
    return out


def channels_due(now: datetime) -> list[int]:
    """Channels with a message due now and no back-off in the way."""
    ids = (
        Notification.objects.filter(status=NotificationStatus.PENDING, next_attempt_at__lte=now)
        .values_list("channel_id", flat=True)
        .distinct()
    )
    return list(
        NotificationChannel.objects.filter(pk__in=list(ids), enabled=True)
        .exclude(retry_at__gt=now)
        .values_list("pk", flat=True)
    )
