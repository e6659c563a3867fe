"""Orders: written by strategies, services and the broker, so read-only here."""

from __future__ import annotations

from django.contrib import admin

from trading.admin.base import OwnerScopedAdmin, ReadOnlyAdminMixin
from trading.models import Order


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, OwnerScopedAdmin):
    list_display = (
        "id",
        "client_order_id",
        "account",
        "instance",
        "instrument",
        "intent",
        "order_type",
        "side",
        "units",
        "price",
        "status",
        "fill_price",
        "broker_order_id",
        "created_at",
    )
    list_filter = ("status", "intent", "order_type", "side", "instrument", "account", "instance", "created_at")
    list_select_related = ("account", "instance", "instrument")
    search_fields = ("client_order_id", "broker_order_id", "=instance__instance_id", "instance__name")
    date_hierarchy = "created_at"
