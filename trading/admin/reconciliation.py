"""Reconciliation in the admin: the differences with the broker, and actions to adopt, close or ignore."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from trading.admin.base import OwnerScopedAdmin, ReadOnlyAdminMixin
from trading.models import Discrepancy, DiscrepancyAction, OrderSubmission
from trading.permissions import Action
from trading.services.discrepancies import discrepancy_resolve_checked


def _apply(modeladmin: OwnerScopedAdmin, request: HttpRequest, queryset: QuerySet[Discrepancy], action: str) -> None:
    done = 0
    for d in modeladmin.permitted(request, queryset, Action.TRADE):
        try:
            discrepancy_resolve_checked(discrepancy=d, action=action, user=request.user)
            done += 1
        except ValidationError as e:
            modeladmin.message_user(request, f"#{d.pk}: {' '.join(e.messages)}", messages.ERROR)
    if done:
        modeladmin.message_user(request, f"{action}: {done} difference(s) resolved", messages.SUCCESS)


@admin.action(description="Adopt the broker's version")
def adopt(modeladmin: OwnerScopedAdmin, request: HttpRequest, queryset: QuerySet[Discrepancy]) -> None:
    _apply(modeladmin, request, queryset, DiscrepancyAction.ADOPT)


@admin.action(description="Close (at the broker for outside trades, in the database for trades gone there)")
def close(modeladmin: OwnerScopedAdmin, request: HttpRequest, queryset: QuerySet[Discrepancy]) -> None:
    _apply(modeladmin, request, queryset, DiscrepancyAction.CLOSE)


@admin.action(description="Ignore")
def ignore(modeladmin: OwnerScopedAdmin, request: HttpRequest, queryset: QuerySet[Discrepancy]) -> None:
    _apply(modeladmin, request, queryset, DiscrepancyAction.IGNORE)


@admin.register(Discrepancy)
class DiscrepancyAdmin(ReadOnlyAdminMixin, OwnerScopedAdmin):
    list_display = (
        "id",
        "account",
        "kind",
        "status",
        "symbol",
        "side",
        "broker_trade_id",
        "broker_order_id",
        "broker_units",
        "db_units",
        "instance",
        "detail",
        "found_at",
        "resolution",
    )
    list_filter = ("status", "kind", "account")
    list_select_related = ("account",)
    search_fields = ("broker_trade_id", "broker_order_id", "detail")
    actions = [adopt, close, ignore]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(OrderSubmission)
class OrderSubmissionAdmin(ReadOnlyAdminMixin, OwnerScopedAdmin):
    owner_lookup = "order__account__owner"
    list_display = ("order", "since_transaction_id", "attempts", "lookups", "last_lookup_at", "note", "created_at")
    list_select_related = ("order",)
