from __future__ import annotations

from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running unattended: notifications, heartbeats and health, the watchdog, metrics and structured logs."""

    name = "ops"
    verbose_name = "Operations (notifications, health)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ops import signals

        signals.connect()
