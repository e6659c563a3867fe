"""Bars: filters by instrument and timeframe, prices shown as decimals (stored as integer points)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import admin
from django.http import HttpRequest

from trading.models import Bar


def _price(field: str) -> object:
    @admin.display(description=field, ordering=field)
    def show(self: admin.ModelAdmin, bar: Bar) -> Decimal:
        return bar.instrument.from_points(getattr(bar, field))

    show.__name__ = f"{field}_price"
    return show


@admin.register(Bar)
class BarAdmin(admin.ModelAdmin):
    list_display = (
        "instrument", "timeframe", "time", "open_price", "high_price", "low_price", "close_price", "volume",
        "spread", "complete",
    )
    list_filter = ("instrument", "timeframe", "complete")
    list_select_related = ("instrument",)
    search_fields = ("instrument__symbol",)
    date_hierarchy = "time"
    show_full_result_count = False
    fields = (
        "instrument", "timeframe", "time", "open_price", "high_price", "low_price", "close_price",
        "volume", "spread", "complete",
    )
    readonly_fields = fields

    open_price = _price("open")
    high_price = _price("high")
    low_price = _price("low")
    close_price = _price("close")

    # Bars come from the broker's history; they can be viewed and deleted (to re-fetch), never edited.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Bar | None = None) -> bool:
        return False
