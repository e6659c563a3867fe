"""Account shares in the admin: the owner names a user by username (staff never get a list of every user)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from trading.admin.base import OwnerScopedAdmin
from trading.models import AccountShare, BrokerAccount
from trading.models.sharing import SHARED_ROLES
from trading.permissions import Action, accounts_q
from trading.services.sharing import account_share, account_share_check, account_unshare


class AccountShareForm(forms.ModelForm):
    username = forms.CharField(max_length=150, help_text="The user to share the account with")
    role = forms.ChoiceField(
        choices=SHARED_ROLES, help_text="trader: run, pause, close, modify (no credentials); viewer: read only"
    )

    class Meta:
        model = AccountShare
        fields = ("account", "role")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["username"].initial = self.instance.user.get_username()
            self.fields["username"].disabled = True

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        account = data.get("account") or (self.instance.account if self.instance.pk else None)
        if account is not None and data.get("username") and data.get("role"):
            try:
                account_share_check(account=account, username=data["username"], role=data["role"])
            except ValidationError as e:
                raise forms.ValidationError(e.messages) from e
        return data


@admin.register(AccountShare)
class AccountShareAdmin(OwnerScopedAdmin):
    """Shares of the accounts the user owns (superusers: all)."""

    form = AccountShareForm
    list_display = ("account", "user", "role", "created_by", "created_at")
    list_filter = ("role", "account")
    change_action = Action.MANAGE
    delete_action = Action.MANAGE

    def get_queryset(self, request: HttpRequest) -> QuerySet[AccountShare]:
        qs = super(OwnerScopedAdmin, self).get_queryset(request)
        return qs.filter(accounts_q(request.user, Action.MANAGE, via="account__", everything=True))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.related_model is BrokerAccount:
            kwargs["queryset"] = BrokerAccount.objects.filter(accounts_q(request.user, Action.MANAGE, everything=True))
        return super(OwnerScopedAdmin, self).formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: AccountShare | None = None) -> Any:
        return ("account",) if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: AccountShare, form: AccountShareForm, change: bool) -> None:
        data = form.cleaned_data
        account = obj.account if change else data["account"]
        saved = account_share(
            account=account,
            username=form.cleaned_data.get("username") or obj.user.get_username(),
            role=data["role"],
            by=request.user,
            source="admin",
        )
        obj.pk = saved.pk
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: AccountShare) -> None:
        account_unshare(account=obj.account, username=obj.user.get_username(), by=request.user, source="admin")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AccountShare]) -> None:
        for share in queryset.select_related("account", "user"):
            self.delete_model(request, share)
