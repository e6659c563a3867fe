"""Instruments (shared reference data)."""

from __future__ import annotations

from django.contrib import admin

from trading.models import Instrument


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = (
        "symbol",
        "broker_symbol",
        "kind",
        "base_currency",
        "quote_currency",
        "digits",
        "pip_location",
        "spread_points",
        "margin_rate",
    )
    list_filter = ("kind", "quote_currency")
    search_fields = ("symbol", "broker_symbol")
