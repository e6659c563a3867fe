"""Trade history with P/L totals for the current filter, and a "close trade" action."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from trading.admin.base import OwnerScopedAdmin, ReadOnlyAdminMixin
from trading.exceptions import ApplicationError
from trading.models import Trade
from trading.permissions import Action
from trading.selectors.trades import trade_totals
from trading.services.trades import trade_close


@admin.register(Trade)
class TradeAdmin(ReadOnlyAdminMixin, OwnerScopedAdmin):
    list_display = (
        "id",
        "account",
        "instance",
        "instrument",
        "side",
        "current_units",
        "open_time",
        "open_price",
        "close_time",
        "close_price",
        "realized_pl",
        "unrealized_pl",
        "financing",
        "commission",
        "state",
        "close_reason",
    )
    list_filter = ("state", "side", "close_reason", "instrument", "account", "instance", "open_time", "close_time")
    list_select_related = ("account", "instance", "instrument")
    search_fields = ("broker_trade_id", "=instance__instance_id", "instance__name", "instrument__symbol")
    date_hierarchy = "open_time"
    actions = ("close_trades",)

    def has_close_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("trading.change_trade")

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            context["pl_totals"] = trade_totals(context["cl"].queryset)
        return response

    @admin.action(description="Close selected open trades (market order at the broker)", permissions=["close"])
    def close_trades(self, request: HttpRequest, queryset: QuerySet[Trade]) -> None:
        for trade in self.permitted(request, queryset, Action.TRADE):
            if not trade.is_open:
                self.message_user(request, f"Trade {trade.pk} is already closed.", messages.WARNING)
                continue
            try:
                order = trade_close(trade=trade, user=request.user, source="admin")
            except ApplicationError as e:
                self.message_user(request, f"Trade {trade.pk}: {e.message}", messages.ERROR)
            else:
                self.message_user(
                    request, f"Trade {trade.pk}: close order {order.client_order_id} sent.", messages.SUCCESS
                )
