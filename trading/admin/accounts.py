"""Broker accounts (token write-only, broker figures read-only) and their snapshots."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.views.decorators.debug import sensitive_post_parameters

from trading.admin.base import OwnerScopedAdmin, ReadOnlyAdminMixin, staff_user
from trading.exceptions import ApplicationError
from trading.models import AccountSnapshot, BrokerAccount, Instrument
from trading.permissions import Action
from trading.services.accounts import account_create, account_update
from trading.services.quotas import QuotaExceeded, quota_check
from trading.services.virtual.account import account_set_virtual_orders
from trading.services.virtual.netting import virtual_net_check, virtual_net_repair

# The fields account_update accepts (besides the token).
UPDATABLE_FIELDS = ("name", "environment", "broker_account_id", "currency", "fifo", "leverage", "enabled")
BROKER_FIGURES = ("balance", "equity", "margin_used", "unrealized_pl", "last_transaction_id")


class BrokerAccountForm(forms.ModelForm):
    # The signed-in user, set on the form class the admin makes for each request (``get_form``): the owner
    # of an account created by staff who are not superusers.
    request_user: ClassVar[User | AnonymousUser | None] = None

    token = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only: stored encrypted and never shown. Leave blank to keep the stored token.",
    )
    refresh_token = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="cTrader: the OAuth refresh token that renews the access token above. Write-only, as the token.",
    )
    initial_balance = forms.DecimalField(
        required=False,
        max_digits=24,
        decimal_places=6,
        initial=Decimal("10000"),
        min_value=Decimal("0.01"),
        max_value=Decimal("1000000000000"),
        help_text="Paper accounts only, on creation.",
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        owner = data.get("owner") or self.request_user
        if self.instance.pk is None and owner is not None:
            try:
                quota_check(user=owner, quota="accounts")
            except QuotaExceeded as e:
                raise forms.ValidationError(e.message) from e
        return data

    class Meta:
        model = BrokerAccount
        fields = (
            "owner",
            "name",
            "broker",
            "environment",
            "broker_account_id",
            "currency",
            "fifo",
            "virtual_orders",
            "leverage",
            "enabled",
        )


@admin.register(BrokerAccount)
class BrokerAccountAdmin(OwnerScopedAdmin):
    owner_lookup = "owner"
    change_action = Action.MANAGE
    form = BrokerAccountForm
    list_display = (
        "id",
        "name",
        "owner",
        "broker",
        "environment",
        "broker_account_id",
        "currency",
        "balance",
        "equity",
        "margin_used",
        "unrealized_pl",
        "enabled",
        "token_hint",
    )
    list_filter = ("broker", "environment", "enabled", "currency")
    search_fields = ("name", "broker_account_id", "owner__username")
    date_hierarchy = "created_at"
    actions = ["virtual_net_show", "virtual_net_repair_confirmed"]

    @admin.action(description="Virtual orders: show virtual net vs broker net")
    def virtual_net_show(self, request: HttpRequest, queryset: QuerySet[BrokerAccount]) -> None:
        for account in queryset:
            for line in virtual_net_check(account):
                level = messages.WARNING if line.difference or line.in_flight else messages.INFO
                self.message_user(
                    request,
                    f"{account}: {line.symbol} virtual {line.virtual_net}, broker "
                    f"{line.broker_net}, in flight {line.in_flight}, difference {line.difference}",
                    level,
                )

    @admin.action(description="Virtual orders: repair the net differences (shows them first)")
    def virtual_net_repair_confirmed(self, request: HttpRequest, queryset: QuerySet[BrokerAccount]) -> Any:
        queryset = self.permitted(request, queryset, Action.TRADE)
        rows = [(account, line) for account in queryset for line in virtual_net_check(account) if line.difference]
        if request.POST.get("confirm") != "yes":
            # Show what would be traded; the repair happens only when this page is submitted.
            items = format_html_join(
                "",
                "<li>{}: {} virtual {} broker {} in flight {} → trade {}</li>",
                ((a, n.symbol, n.virtual_net, n.broker_net, n.in_flight, n.difference) for a, n in rows),
            ) or format_html("<li>no differences</li>")
            hidden = format_html_join(
                "", '<input type="hidden" name="_selected_action" value="{}">', ((a.pk,) for a in queryset)
            )
            return HttpResponse(
                format_html(
                    '<h1>Repair virtual net positions</h1><ul>{}</ul><form method="post">'
                    '<input type="hidden" name="csrfmiddlewaretoken" value="{}">{}'
                    '<input type="hidden" name="action" value="virtual_net_repair_confirmed">'
                    '<input type="hidden" name="confirm" value="yes"><button type="submit">Send the repair orders</button>'
                    "</form>",
                    items,
                    get_token(request),
                    hidden,
                )
            )
        for account, line in rows:
            try:
                order = virtual_net_repair(
                    account=account, instrument=Instrument.objects.get(pk=line.instrument_id), confirmed=True
                )
            except ApplicationError as e:
                self.message_user(request, f"{account}: {line.symbol}: {e.message}", messages.ERROR)
                continue
            if order is not None:
                self.message_user(
                    request,
                    f"{account}: {line.symbol}: repair order {order.client_order_id} {order.side} {order.units}",
                )
        return None

    def get_fieldsets(self, request: HttpRequest, obj: BrokerAccount | None = None) -> Any:
        main = [
            "owner",
            "name",
            "broker",
            "environment",
            "broker_account_id",
            "currency",
            "fifo",
            "virtual_orders",
            "leverage",
            "enabled",
        ]
        credentials = ["token", "refresh_token", "token_hint", "has_token", "token_expires_at"]
        if obj is None:
            if not request.user.is_superuser:
                main.remove("owner")  # their own account: no list of users to choose from
            return [(None, {"fields": [*main, "initial_balance"]}), ("Credentials", {"fields": credentials})]
        return [
            (None, {"fields": main}),
            ("Credentials", {"fields": credentials}),
            ("Last known broker figures", {"fields": [*BROKER_FIGURES, "created_at", "updated_at"]}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: BrokerAccount | None = None) -> Any:
        always = ("token_hint", "has_token", "token_expires_at", *BROKER_FIGURES, "created_at", "updated_at")
        # Owner and broker are fixed once the account exists (account_update does not change them).
        return always if obj is None else ("owner", "broker", *always)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        assert issubclass(form, BrokerAccountForm)  # a subclass of self.form, made for this request
        form.request_user = request.user
        return form

    # Error reports and the DEBUG page would otherwise print the submitted token with the POST data.
    @method_decorator(sensitive_post_parameters("token", "refresh_token"))
    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return super().changeform_view(request, *args, **kwargs)

    @admin.display(boolean=True, description="Token stored")
    def has_token(self, obj: BrokerAccount) -> bool:
        return obj.has_token

    def save_model(self, request: HttpRequest, obj: BrokerAccount, form: BrokerAccountForm, change: bool) -> None:
        data = form.cleaned_data
        token = data.get("token") or ""
        refresh_token = data.get("refresh_token") or ""
        if not change:
            created = account_create(
                # Staff who are not superusers only ever create accounts of their own.
                owner=data["owner"] if request.user.is_superuser else staff_user(request),
                name=data["name"],
                broker=data["broker"],
                environment=data["environment"],
                broker_account_id=data.get("broker_account_id") or "",
                token=token,
                refresh_token=refresh_token,
                currency=data["currency"],
                fifo=data["fifo"],
                leverage=data["leverage"],
                enabled=data["enabled"],
                initial_balance=data.get("initial_balance") or Decimal("10000"),
            )
            account_set_virtual_orders(created, data.get("virtual_orders"))
            obj.pk = created.pk
            obj._state.adding = False
            return
        if "virtual_orders" in form.changed_data:
            account_set_virtual_orders(BrokerAccount.objects.get(pk=obj.pk), data["virtual_orders"])
        changes = {name: data[name] for name in form.changed_data if name in UPDATABLE_FIELDS}
        if token:
            changes["token"] = token
        if refresh_token:
            changes["refresh_token"] = refresh_token
        if changes:
            account_update(BrokerAccount.objects.get(pk=obj.pk), **changes)


@admin.register(AccountSnapshot)
class AccountSnapshotAdmin(ReadOnlyAdminMixin, OwnerScopedAdmin):
    list_display = ("account", "time", "balance", "equity", "margin_used", "unrealized_pl")
    list_filter = ("account",)
    list_select_related = ("account",)
    date_hierarchy = "time"
    search_fields = ("account__name",)
