"""Admin: backtests, optimisations, walk-forwards and drift reports (read-only); a backtest action on instances."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from backtests.models import (
    BacktestRun,
    BacktestTrade,
    DriftReport,
    DriftTrade,
    Optimization,
    OptimizationPass,
    WalkForward,
    WalkForwardWindow,
)
from trading.admin.base import scoped_list_filter
from trading.models import StrategyInstance
from trading.permissions import Action, accounts_q
from trading.services.quotas import QuotaExceeded

LAST_DAYS = 30


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class _OwnerScoped(admin.ModelAdmin):
    """Rows the user started, or whose instance is on an account the user may view (superusers: all).

    Admins list ``admin.ModelAdmin`` again after ``_ReadOnly`` so that _ReadOnly's answers come before
    ModelAdmin's in the method order."""

    owner_lookups: tuple[str, ...] = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        started, on_instance = self.owner_lookups  # ("<path>owner", "<path>instance__account__owner")
        return qs.filter(Q(**{started: request.user}) | accounts_q(request.user, via=on_instance.removesuffix("owner")))

    def get_list_filter(self, request: HttpRequest) -> Any:
        return scoped_list_filter(self.model, super().get_list_filter(request), request)


@admin.register(BacktestRun)
class BacktestRunAdmin(_OwnerScoped, _ReadOnly, admin.ModelAdmin):
    owner_lookups = ("owner", "instance__account__owner")
    list_display = (
        "id",
        "symbol",
        "timeframe",
        "strategy_id",
        "engine",
        "status",
        "progress",
        "bars_tested",
        "net_profit",
        "created_at",
        "report",
    )
    list_filter = ("status", "engine", "symbol", "strategy_id")
    date_hierarchy = "created_at"

    @admin.display(description="Net profit")
    def net_profit(self, obj: BacktestRun) -> Any:
        return (obj.statistics or {}).get("net_profit", "-")

    @admin.display(description="Report")
    def report(self, obj: BacktestRun) -> str:
        return format_html(
            '<a href="{}">page</a> · <a href="{}">HTML</a> · <a href="{}">CSV</a>',
            reverse("backtests-dashboard:detail", args=[obj.pk]),
            reverse("backtests-api:run-report", args=[obj.pk]),
            reverse("backtests-api:run-trades-csv", args=[obj.pk]),
        )


@admin.register(BacktestTrade)
class BacktestTradeAdmin(_OwnerScoped, _ReadOnly, admin.ModelAdmin):
    owner_lookups = ("run__owner", "run__instance__account__owner")
    list_display = (
        "run",
        "ticket",
        "side",
        "order_type",
        "units",
        "open_time",
        "close_time",
        "open_price",
        "close_price",
        "profit",
        "balance",
        "close_reason",
    )
    list_filter = ("close_reason", "side", "order_type")
    list_select_related = ("run",)
    search_fields = ("=run__id", "=ticket")


@admin.register(Optimization)
class OptimizationAdmin(_OwnerScoped, _ReadOnly, admin.ModelAdmin):
    owner_lookups = ("owner", "instance__account__owner")
    list_display = (
        "id",
        "symbol",
        "timeframe",
        "strategy_id",
        "method",
        "engine",
        "status",
        "passes_done",
        "passes_total",
        "created_at",
        "table",
    )
    list_filter = ("status", "method", "engine")

    @admin.display(description="Passes")
    def table(self, obj: Optimization) -> str:
        return format_html(
            '<a href="{}">sortable table</a>', reverse("backtests-dashboard:optimization", args=[obj.pk])
        )


class WalkForwardWindowInline(_ReadOnly, admin.TabularInline):
    model = WalkForwardWindow
    extra = 0
    can_delete = False
    fields = (
        "index",
        "in_sample_start",
        "in_sample_end",
        "out_of_sample_start",
        "out_of_sample_end",
        "optimised_at",
        "parameters",
        "in_sample_return",
        "out_of_sample_return",
        "efficiency",
        "start_balance",
        "end_balance",
        "status",
    )
    readonly_fields = fields


@admin.register(WalkForward)
class WalkForwardAdmin(_OwnerScoped, _ReadOnly, admin.ModelAdmin):
    owner_lookups = ("owner", "instance__account__owner")
    list_display = (
        "id",
        "symbol",
        "timeframe",
        "strategy_id",
        "mode",
        "windows",
        "windows_optimised",
        "windows_done",
        "status",
        "efficiency",
        "created_at",
        "report",
    )
    list_filter = ("status", "mode", "engine")
    inlines = [WalkForwardWindowInline]
    actions = ["cancel"]

    @admin.display(description="Report")
    def report(self, obj: WalkForward) -> str:
        return format_html(
            '<a href="{}">page</a> · <a href="{}">report</a>',
            reverse("backtests-dashboard:walkforward", args=[obj.pk]),
            reverse("backtests-api:walkforward-report", args=[obj.pk]),
        )

    @admin.action(description="Cancel (queued passes are skipped)")
    def cancel(self, request: HttpRequest, queryset: QuerySet) -> None:
        from backtests.services.walkforward_run import walkforward_cancel

        if not request.user.is_superuser:
            queryset = queryset.filter(
                Q(owner=request.user) | accounts_q(request.user, Action.TRADE, via="instance__account__")
            )
        cancelled = [wf.pk for wf in queryset if walkforward_cancel(walk_forward_id=wf.pk)]
        self.message_user(request, f"Cancelled: {cancelled or 'none (all had ended)'}", messages.SUCCESS)


class DriftTradeInline(_ReadOnly, admin.TabularInline):
    model = DriftTrade
    extra = 0
    can_delete = False
    fields = (
        "index",
        "match",
        "side",
        "live_trade",
        "live_open_time",
        "live_open_price",
        "live_close_price",
        "live_profit",
        "live_close_reason",
        "backtest_open_time",
        "backtest_open_price",
        "backtest_close_price",
        "backtest_profit",
        "backtest_close_reason",
        "entry_slippage_points",
        "exit_slippage_points",
        "profit_difference",
        "note",
    )
    readonly_fields = fields


@admin.register(DriftReport)
class DriftReportAdmin(_OwnerScoped, _ReadOnly, admin.ModelAdmin):
    owner_lookups = ("owner", "instance__account__owner")
    list_display = (
        "id",
        "instance",
        "symbol",
        "start",
        "end",
        "status",
        "verdict",
        "matched",
        "live_only",
        "backtest_only",
        "profit_difference",
        "created_at",
        "page",
    )
    list_filter = ("status", "verdict")
    inlines = [DriftTradeInline]

    @admin.display(description="Page")
    def page(self, obj: DriftReport) -> str:
        return format_html('<a href="{}">table</a>', reverse("backtests-dashboard:drift", args=[obj.pk]))


SORTABLE = ("net_profit", "profit_factor", "equity_drawdown_relative", "total_trades", "sharpe_ratio")


def _stat_column(key: str):
    @admin.display(description=key.replace("_", " "), ordering=f"stat_{key}")
    def column(self, obj: OptimizationPass) -> Any:
        return (obj.statistics or {}).get(key, "-")

    column.__name__ = f"stat_{key}_column"
    return column


@admin.register(OptimizationPass)
class OptimizationPassAdmin(_OwnerScoped, _ReadOnly, admin.ModelAdmin):
    """Every pass with its main statistics as sortable columns (click a header)."""

    owner_lookups = ("optimization__owner", "optimization__instance__account__owner")
    list_display = (
        "optimization",
        "index",
        "parameters",
        "status",
        *(f"stat_{k}_column" for k in SORTABLE),
        "duration_seconds",
        "worker",
    )
    list_filter = ("status", "optimization")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        from django.db.models import FloatField
        from django.db.models.fields.json import KeyTextTransform
        from django.db.models.functions import Cast

        qs = super().get_queryset(request)
        return qs.annotate(**{f"stat_{k}": Cast(KeyTextTransform(k, "statistics"), FloatField()) for k in SORTABLE})


for _key in SORTABLE:
    setattr(OptimizationPassAdmin, f"stat_{_key}_column", _stat_column(_key))


@admin.action(description=f"Backtest last {LAST_DAYS} days (parity engine, queued)")
def backtest_last_30_days(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    from backtests.services.runs import backtest_run_create, backtest_run_enqueue

    end = timezone.now()
    if not request.user.is_superuser:
        queryset = queryset.filter(accounts_q(request.user, Action.TRADE, via="account__"))
    for instance in queryset.select_related("instrument", "account"):
        try:
            created = backtest_run_create(
                instance=instance, start=end - timedelta(days=LAST_DAYS), end=end, owner=request.user
            )
        except QuotaExceeded as e:
            modeladmin.message_user(request, e.message, messages.ERROR)
            return
        run = backtest_run_enqueue(run=created)
        modeladmin.message_user(
            request,
            format_html(
                'Backtest <a href="{}">{}</a> of {} queued.',
                reverse("backtests-dashboard:detail", args=[run.pk]),
                run.pk,
                instance,
            ),
            messages.SUCCESS,
        )


def _add_instance_action() -> None:
    """Add the action to the StrategyInstance admin of trading/admin without editing it."""
    instance_admin = admin.site._registry.get(StrategyInstance)
    if instance_admin is not None and backtest_last_30_days not in (instance_admin.actions or ()):
        instance_admin.actions = (*(instance_admin.actions or ()), backtest_last_30_days)


_add_instance_action()
