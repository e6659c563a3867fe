"""Shared admin behaviour: rows scoped by the user's role on each account (``trading.permissions``) for staff
who are not superusers, relation filters and choices that list only what that user may see, and read-only
admins."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import ForeignKey, Model, QuerySet
from django.http import HttpRequest

from trading.models import BrokerAccount, StrategyInstance
from trading.permissions import Action, account_allows, accounts_q


def staff_user(request: HttpRequest) -> User:
    """The signed-in user. The admin site lets no one else in (``AdminSite.has_permission``), so this only
    turns ``request.user`` into the user type."""
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied
    return user


def scoped_list_filter(model: type[Model], list_filter: Any, request: HttpRequest) -> list[Any]:
    """``list_filter`` with every relation filter limited to the values present in the visible rows.

    Django's default relation filter lists every row of the related table (every user's accounts and
    instances); staff who are not superusers must see only their own.
    """
    if request.user.is_superuser:
        return list(list_filter)
    scoped = []
    for item in list_filter:
        if isinstance(item, str) and _is_relation(model, item):
            scoped.append((item, admin.RelatedOnlyFieldListFilter))
        else:
            scoped.append(item)
    return scoped


def _is_relation(model: type[Model], path: str) -> bool:
    field = None
    for part in path.split("__"):
        try:
            field = model._meta.get_field(part)
        except Exception:  # noqa: BLE001 - not a field path (a callable or an annotation)
            return False
        if field.is_relation and isinstance(field.related_model, type):  # None for generic relations
            model = field.related_model
    return field is not None and field.is_relation


def scoped_foreignkey(db_field: ForeignKey, request: HttpRequest, kwargs: dict[str, Any]) -> None:
    """Limit a foreign key's choices to what the user may trade on (and to themselves for user fields)."""
    user = request.user
    if user.is_superuser:
        return
    if db_field.related_model is BrokerAccount:
        kwargs["queryset"] = BrokerAccount.objects.filter(accounts_q(user, Action.TRADE))
    elif db_field.related_model is StrategyInstance:
        kwargs["queryset"] = StrategyInstance.objects.filter(accounts_q(user, Action.TRADE, via="account__"))
    elif db_field.related_model is get_user_model():
        kwargs["queryset"] = get_user_model().objects.filter(pk=staff_user(request).pk)  # never every user


class OwnerScopedAdmin(admin.ModelAdmin):
    """Superusers see everything; other staff see rows of accounts they may view, change them where their
    role allows ``change_action`` and delete them where it allows ``delete_action``."""

    owner_lookup = "account__owner"
    change_action = Action.TRADE
    delete_action = Action.MANAGE

    @property
    def account_path(self) -> str:
        """The lookup path from this model to its account (``""`` for BrokerAccount itself)."""
        return self.owner_lookup.removesuffix("owner")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        return qs.filter(accounts_q(request.user, Action.VIEW, via=self.account_path, everything=True))

    def account_of(self, obj: Model) -> BrokerAccount | None:
        target: object = obj
        for part in self.account_path.split("__")[:-1]:
            target = getattr(target, part, None)
            if target is None:
                return None
        return target if isinstance(target, BrokerAccount) else None

    def _allows(self, request: HttpRequest, obj: Model | None, action: Action) -> bool:
        if obj is None or request.user.is_superuser:
            return True
        account = self.account_of(obj)
        return account is not None and account_allows(request.user, account, action)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_change_permission(request, obj) and self._allows(request, obj, self.change_action)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_delete_permission(request, obj) and self._allows(request, obj, self.delete_action)

    def get_list_filter(self, request: HttpRequest) -> Any:
        return scoped_list_filter(self.model, super().get_list_filter(request), request)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        scoped_foreignkey(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def permitted(self, request: HttpRequest, queryset: QuerySet[Any], action: Action) -> QuerySet[Any]:
        """The rows of ``queryset`` the user's role allows ``action`` on; a message names what was left out."""
        allowed = queryset.filter(accounts_q(request.user, action, via=self.account_path, everything=True))
        left_out = queryset.count() - allowed.count()
        if left_out:
            self.message_user(
                request,
                f"{left_out} selected row(s) skipped: your role on their account does not allow {action}.",
                messages.WARNING,
            )
        return allowed


class ReadOnlyAdminMixin:
    """Rows written only by the platform and the broker: viewable, never added or edited by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
