from __future__ import annotations

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The trader's dashboard: pages, forms, template filters, and the named API tokens it hands out."""

    name = "trading.dashboard"
    label = "dashboard"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from trading.dashboard import schema  # noqa: F401  (registers the token scheme with drf-spectacular)
