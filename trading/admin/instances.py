"""Strategy instances: enable/disable/run-now actions, last executions inline, saves through the services."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from framework import UnknownStrategyError, get_strategy
from risk.services.audit import audit_record
from trading.admin.base import OwnerScopedAdmin
from trading.admin.legacy import LegacyInstanceConfigInline
from trading.exceptions import ApplicationError
from trading.models import Execution, StrategyInstance
from trading.permissions import Action
from trading.selectors.executions import execution_latest_per_instance
from trading.selectors.instances import LastRun, instance_annotate_last_run
from trading.services.execution import execution_enqueue
from trading.services.instances import instance_create, instance_set_enabled, instance_update
from trading.services.quotas import QuotaExceeded, quota_check

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations  # a dev requirement: only the type checker reads it

INLINE_EXECUTIONS = 20
# The fields instance_update accepts.
UPDATABLE_FIELDS = (
    "name",
    "instrument",
    "strategy_id",
    "timeframe",
    "parameters",
    "rates_slots",
    "risk_percent",
    "max_open_orders",
    "max_spread",
    "operational_mode",
    "enabled",
)


class ExecutionInline(admin.TabularInline):
    model = Execution
    verbose_name_plural = f"Last {INLINE_EXECUTIONS} executions"
    fields = ("bar_time", "status", "started_at", "duration_ms", "return_code", "orders_placed", "attempts", "error")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Execution]:
        return execution_latest_per_instance(super().get_queryset(request), per_instance=INLINE_EXECUTIONS)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StrategyInstanceForm(forms.ModelForm):
    class Meta:
        model = StrategyInstance
        fields = ("instance_id", *UPDATABLE_FIELDS, "account")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "instance_id" in self.fields:
            self.fields["instance_id"].required = False
            self.fields["instance_id"].help_text = "Magic number; leave blank to take the next free one"

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        account = data.get("account")
        if self.instance._state.adding and account is not None:
            try:
                quota_check(user=account.owner, quota="instances")
            except QuotaExceeded as e:
                raise forms.ValidationError(e.message) from e
        return data


@admin.register(StrategyInstance)
class StrategyInstanceAdmin(OwnerScopedAdmin):
    form = StrategyInstanceForm
    list_display = (
        "instance_id",
        "name",
        "account",
        "instrument",
        "strategy",
        "timeframe",
        "operational_mode",
        "enabled",
        "last_run_at",
        "last_status",
    )
    list_filter = ("enabled", "operational_mode", "timeframe", "strategy_id", "instrument", "account")
    list_select_related = ("account", "instrument")
    search_fields = ("name", "=instance_id", "instrument__symbol", "account__name")
    date_hierarchy = "created_at"
    inlines = (ExecutionInline, LegacyInstanceConfigInline)
    actions = ("enable_instances", "disable_instances", "run_now")

    def get_queryset(self, request: HttpRequest) -> QuerySet[StrategyInstance]:
        return instance_annotate_last_run(super().get_queryset(request))

    def get_readonly_fields(self, request: HttpRequest, obj: StrategyInstance | None = None) -> Any:
        always = ("periodic_task", "created_at", "updated_at")
        # The magic number and the account tag every broker order; they never change.
        return always if obj is None else ("instance_id", "account", *always)

    @admin.display(description="Strategy")
    def strategy(self, obj: StrategyInstance) -> str:
        try:
            return f"{obj.strategy_id} {get_strategy(obj.strategy_id).name}"
        except UnknownStrategyError:
            return f"{obj.strategy_id} (not in catalog)"

    @admin.display(description="Last run", ordering="last_run_at")
    def last_run_at(self, obj: WithAnnotations[StrategyInstance, LastRun]) -> datetime | None:
        return obj.last_run_at

    @admin.display(description="Last status")
    def last_status(self, obj: WithAnnotations[StrategyInstance, LastRun]) -> str:
        return obj.last_status or "-"

    def save_model(self, request: HttpRequest, obj: StrategyInstance, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            created = instance_create(
                account=data["account"],
                instance_id=data.get("instance_id") or None,
                **{name: data[name] for name in UPDATABLE_FIELDS},
            )
            obj.pk = created.pk
            obj._state.adding = False
            return
        changes = {name: data[name] for name in form.changed_data if name in UPDATABLE_FIELDS}
        if changes:
            instance_update(StrategyInstance.objects.get(pk=obj.pk), **changes)

    @admin.action(description="Enable selected instances", permissions=["change"])
    def enable_instances(self, request: HttpRequest, queryset: QuerySet[StrategyInstance]) -> None:
        self._set_enabled(request, queryset, enabled=True)

    @admin.action(description="Disable selected instances", permissions=["change"])
    def disable_instances(self, request: HttpRequest, queryset: QuerySet[StrategyInstance]) -> None:
        self._set_enabled(request, queryset, enabled=False)

    def _set_enabled(self, request: HttpRequest, queryset: QuerySet[StrategyInstance], *, enabled: bool) -> None:
        queryset = self.permitted(request, queryset, Action.TRADE)
        done = 0
        for instance in queryset:
            try:
                instance_set_enabled(instance, enabled)
            except ValidationError as e:
                self.message_user(request, f"#{instance.pk}: {'; '.join(e.messages)}", messages.ERROR)
            else:
                done += 1
                audit_record(
                    user=request.user,
                    action="instance_enable" if enabled else "instance_disable",
                    obj=instance,
                    source="admin",
                    details={"enabled": enabled},
                )
        self.message_user(request, f"{'Enabled' if enabled else 'Disabled'} {done} instance(s).", messages.SUCCESS)

    @admin.action(description="Run selected instances now", permissions=["change"])
    def run_now(self, request: HttpRequest, queryset: QuerySet[StrategyInstance]) -> None:
        for instance in self.permitted(request, queryset, Action.TRADE):
            try:
                task_id = execution_enqueue(instance)
            except ApplicationError as e:
                self.message_user(request, f"#{instance.pk}: {e.message}", messages.ERROR)
            else:
                audit_record(
                    user=request.user,
                    action="instance_run_now",
                    obj=instance,
                    source="admin",
                    details={"task_id": task_id},
                )
                self.message_user(request, f"#{instance.pk}: run queued (task {task_id}).", messages.SUCCESS)
