"""Notification channels and their messages, the events behind them, watched conditions, cursors, heartbeats."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ops.events import DEFAULT_KINDS, EventKind, Severity
from trading.models import BrokerAccount


def _default_kinds() -> list[str]:
    return list(DEFAULT_KINDS)


class NotificationChannel(models.Model):
    """Where one user's alerts go (an apprise URL: Telegram, e-mail, Slack, ntfy, a JSON webhook, …).

    The URL holds the service's secrets, so it is stored encrypted like broker tokens and never shown back:
    only the service name and ``url_hint`` (scheme and host). Delivery state is kept here so a failing
    channel is visible and backs off as a whole.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ops_channels")
    account = models.ForeignKey(
        BrokerAccount,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="ops_channels",
        help_text="Empty: every account of the owner (and platform-wide alerts)",
    )
    name = models.CharField(max_length=100)
    url_encrypted = models.TextField(editable=False)
    service = models.CharField(max_length=60, editable=False, blank=True)
    url_hint = models.CharField(max_length=120, editable=False, blank=True)
    events = models.JSONField(default=_default_kinds, blank=True, help_text="Event kinds this channel receives")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Delivery state: consecutive failures back the whole channel off until retry_at.
    failures = models.PositiveIntegerField(default=0, editable=False)
    retry_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.CharField(max_length=300, blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["owner", "name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.service or 'channel'})"

    @property
    def failing(self) -> bool:
        return self.failures > 0


class Event(models.Model):
    """Something a trader may want to know, found once (``key`` is unique) by the notifier pass."""

    key = models.CharField(max_length=160, unique=True)
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.INFO)
    account = models.ForeignKey(BrokerAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    account_ids = models.JSONField(null=True, blank=True, help_text="Accounts concerned; empty = every account")
    instance_id = models.PositiveIntegerField(null=True, blank=True)
    group = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=250)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.title}"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Gave up"


class Notification(models.Model):
    """One message to one channel: a single event, or a burst of one kind grouped into one message."""

    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.INFO)
    title = models.CharField(max_length=250)
    body = models.TextField(blank=True)
    events = models.PositiveIntegerField(default=1, help_text="How many events this message stands for")
    status = models.CharField(max_length=8, choices=NotificationStatus.choices, default=NotificationStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["channel", "status", "next_attempt_at"]),
            models.Index(fields=["status", "next_attempt_at"], name="ops_notification_due"),
        ]

    def __str__(self) -> str:
        return f"{self.title} → {self.channel_id} ({self.status})"


class Condition(models.Model):
    """A watched state (a shard's heartbeat, a queue, a price stream, a drawdown level): told once per change."""

    key = models.CharField(max_length=160, unique=True)
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    bad = models.BooleanField(default=False)
    since = models.DateTimeField()
    detail = models.CharField(max_length=300, blank=True)
    checked_at = models.DateTimeField()

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.key}: {'BAD' if self.bad else 'ok'}"


class OpsState(models.Model):
    """Small named state of the notifier: its cursors over other tables, the equity high-water marks."""

    name = models.CharField(max_length=60, primary_key=True)
    value = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class Heartbeat(models.Model):
    """A process's last sign of life, for installs without Redis (embedded mode); Redis holds them otherwise."""

    key = models.CharField(max_length=200, primary_key=True)
    info = models.JSONField(default=dict)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key} @ {self.at:%H:%M:%S}"
