"""Shared admin behaviour: owner scoping for staff who are not superusers, and read-only admins."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from trading.models import BrokerAccount, StrategyInstance


class OwnerScopedAdmin(admin.ModelAdmin):
    """Superusers see everything; other staff see only rows of accounts they own."""

    owner_lookup = "account__owner"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{self.owner_lookup: request.user})

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if not request.user.is_superuser:
            if db_field.related_model is BrokerAccount:
                kwargs["queryset"] = BrokerAccount.objects.filter(owner=request.user)
            elif db_field.related_model is StrategyInstance:
                kwargs["queryset"] = StrategyInstance.objects.filter(account__owner=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadOnlyAdminMixin:
    """Rows written only by the platform and the broker: viewable, never added or edited by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
