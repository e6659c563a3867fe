"""Executions (strategy runs): entirely read-only."""

from __future__ import annotations

from django.contrib import admin

from trading.admin.base import OwnerScopedAdmin, ReadOnlyAdminMixin
from trading.models import Execution


@admin.register(Execution)
class ExecutionAdmin(ReadOnlyAdminMixin, OwnerScopedAdmin):
    owner_lookup = "instance__account__owner"
    list_display = (
        "id",
        "instance",
        "bar_time",
        "status",
        "started_at",
        "duration_ms",
        "return_code",
        "orders_placed",
        "attempts",
        "short_error",
    )
    list_filter = ("status", "instance", "instance__instrument", "bar_time")
    list_select_related = ("instance",)
    search_fields = ("=instance__instance_id", "instance__name", "error")
    date_hierarchy = "bar_time"

    @admin.display(description="Error")
    def short_error(self, obj: Execution) -> str:
        return obj.error if len(obj.error) <= 80 else obj.error[:79] + "…"
