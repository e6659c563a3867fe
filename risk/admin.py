"""Admin: guard rails, kill switches (engage/flatten/release actions), market hours, blocked signals, audit log,
and instance controls (close all, pause, resume). Changes go through the services, so each one is audited."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from risk.models import AuditLogEntry, BlockedSignal, InstanceControl, KillSwitch, MarketHoursPolicy, RiskLimit
from risk.services.audit import audit_record
from risk.services.kill_switch import kill_switch_engage, kill_switch_release
from risk.services.manual import instance_close_all, instance_pause, instance_resume
from risk.services.settings import LIMIT_FIELDS, limit_reset_peak, limit_set
from trading.admin.base import OwnerScopedAdmin, ReadOnlyAdminMixin, scoped_list_filter
from trading.permissions import Action, account_allows, accounts_for


@admin.register(RiskLimit)
class RiskLimitAdmin(OwnerScopedAdmin):
    list_display = (
        "__str__",
        "account",
        "instance",
        "max_drawdown_pct",
        "drawdown_action",
        "daily_loss_limit",
        "max_open_trades",
        "max_order_equity_ratio",
        "max_currency_exposure_ratio",
        "max_spread_points",
        "peak_equity",
    )
    list_select_related = ("account", "instance")
    readonly_fields = ("peak_equity", "peak_since", "created_at", "updated_at")
    actions = ("reset_peak",)

    def save_model(self, request: HttpRequest, obj: RiskLimit, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        saved = limit_set(
            account=data.get("account", obj.account),
            instance=data.get("instance", obj.instance),
            user=request.user,
            source="admin",
            **{k: data[k] for k in LIMIT_FIELDS if k in data},
        )
        obj.pk = saved.pk
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: RiskLimit) -> None:
        audit_record(user=request.user, action="limit_change", obj=obj, source="admin", details={"deleted": True})
        super().delete_model(request, obj)

    @admin.action(description="Reset the drawdown high-water mark (start afresh from now)", permissions=["change"])
    def reset_peak(self, request: HttpRequest, queryset: QuerySet[RiskLimit]) -> None:
        queryset = self.permitted(request, queryset, Action.TRADE)
        for limit in queryset:
            limit_reset_peak(limit=limit, user=request.user, source="admin")
        self.message_user(request, f"Reset {queryset.count()} high-water mark(s).", messages.SUCCESS)


@admin.register(KillSwitch)
class KillSwitchAdmin(ReadOnlyAdminMixin, OwnerScopedAdmin):
    list_display = ("__str__", "account", "engaged", "flatten", "reason", "changed_by", "changed_at")
    actions = ("engage", "engage_and_flatten", "release")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("risk.change_killswitch")  # for the actions; the form stays read-only

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in KillSwitch._meta.fields]

    def _apply(self, request: HttpRequest, queryset: QuerySet[KillSwitch], *, engage: bool, flatten: bool) -> None:
        for switch in queryset.select_related("account"):
            if switch.account is None and not request.user.is_superuser:
                self.message_user(request, "Only a superuser may use the global kill switch.", messages.ERROR)
                continue
            if switch.account is not None and not (
                request.user.is_superuser or account_allows(request.user, switch.account, Action.TRADE)
            ):
                self.message_user(request, f"{switch}: your role on this account does not allow it.", messages.ERROR)
                continue
            if engage:
                kill_switch_engage(
                    account=switch.account, user=request.user, source="admin", flatten=flatten, reason="admin action"
                )
            else:
                kill_switch_release(account=switch.account, user=request.user, source="admin")
        self.message_user(request, "Done.", messages.SUCCESS)

    @admin.action(description="Engage (stop new entries)", permissions=["change"])
    def engage(self, request: HttpRequest, queryset: QuerySet[KillSwitch]) -> None:
        self._apply(request, queryset, engage=True, flatten=False)

    @admin.action(description="Engage and flatten (close every trade, cancel entries)", permissions=["change"])
    def engage_and_flatten(self, request: HttpRequest, queryset: QuerySet[KillSwitch]) -> None:
        self._apply(request, queryset, engage=True, flatten=True)

    @admin.action(description="Release", permissions=["change"])
    def release(self, request: HttpRequest, queryset: QuerySet[KillSwitch]) -> None:
        self._apply(request, queryset, engage=False, flatten=False)

    def get_queryset(self, request: HttpRequest) -> QuerySet[KillSwitch]:
        from risk.selectors import kill_switch_list_for_user
        from trading.models import BrokerAccount

        # Every account gets its row (off), so the actions can engage any of them; one global row too.
        accounts = BrokerAccount.objects.all() if request.user.is_superuser else accounts_for(request.user)
        missing = accounts.exclude(kill_switch__isnull=False)
        KillSwitch.objects.bulk_create([KillSwitch(account=a) for a in missing], ignore_conflicts=True)
        if request.user.is_superuser:
            KillSwitch.objects.bulk_create([KillSwitch(account=None)], ignore_conflicts=True)
            return KillSwitch.objects.select_related("account")
        return kill_switch_list_for_user(user=request.user)


@admin.register(MarketHoursPolicy)
class MarketHoursPolicyAdmin(OwnerScopedAdmin):
    list_display = ("account", "when_closed", "oanda_daily_break")

    def save_model(self, request: HttpRequest, obj: MarketHoursPolicy, form: forms.ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_record(
            user=request.user,
            action="market_hours_change",
            obj=obj,
            source="admin",
            details={"when_closed": obj.when_closed, "oanda_daily_break": obj.oanda_daily_break},
        )


@admin.register(BlockedSignal)
class BlockedSignalAdmin(ReadOnlyAdminMixin, OwnerScopedAdmin):
    list_display = ("created_at", "account", "instance", "rule", "outcome", "intent", "values", "released_at")
    list_filter = ("rule", "outcome", "account", "instance")
    list_select_related = ("account", "instance")
    date_hierarchy = "created_at"


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("time", "username", "source", "action", "object_repr", "details")
    list_filter = ("action", "source", "account")
    search_fields = ("username", "object_repr", "object_id")
    date_hierarchy = "time"

    def get_list_filter(self, request: HttpRequest) -> Any:
        return scoped_list_filter(self.model, super().get_list_filter(request), request)

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditLogEntry]:
        from risk.selectors import audit_list_for_user

        if request.user.is_superuser:
            return super().get_queryset(request)
        return audit_list_for_user(user=request.user)


@admin.register(InstanceControl)
class InstanceControlAdmin(ReadOnlyAdminMixin, OwnerScopedAdmin):
    list_display = ("instance_id", "name", "account", "instrument", "enabled")
    list_select_related = ("account", "instrument")
    actions = ("close_all", "pause", "resume")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("trading.change_strategyinstance")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in InstanceControl._meta.fields]

    @admin.action(description="Close all open trades of the selected instances", permissions=["change"])
    def close_all(self, request: HttpRequest, queryset: QuerySet[InstanceControl]) -> None:
        for instance in self.permitted(request, queryset, Action.TRADE):
            done = instance_close_all(instance=instance, user=request.user, source="admin")
            self.message_user(
                request, f"#{instance.pk}: {len(done['trades_closed'])} close order(s) sent.", messages.SUCCESS
            )

    @admin.action(description="Pause the selected instances", permissions=["change"])
    def pause(self, request: HttpRequest, queryset: QuerySet[InstanceControl]) -> None:
        for instance in self.permitted(request, queryset, Action.TRADE):
            instance_pause(instance=instance, user=request.user, source="admin")
        self.message_user(request, "Paused.", messages.SUCCESS)

    @admin.action(description="Resume the selected instances", permissions=["change"])
    def resume(self, request: HttpRequest, queryset: QuerySet[InstanceControl]) -> None:
        for instance in self.permitted(request, queryset, Action.TRADE):
            instance_resume(instance=instance, user=request.user, source="admin")
        self.message_user(request, "Resumed.", messages.SUCCESS)
