"""Drift report API: create (queued on Celery), list and read the caller's reports with their per-trade rows."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backtests.api_base import InstanceInputSerializer, ListCreateApi, bar_time_field
from backtests.models import DriftReport
from backtests.selectors import drift_report_list_for_user
from backtests.services.bounds import MAX_BALANCE
from backtests.services.drift import DriftError, drift_report_create, drift_report_enqueue
from trading.api.utils import ApiSerializer


class DriftTradeOutputSerializer(ApiSerializer):
    index = serializers.IntegerField()
    match = serializers.CharField()
    side = serializers.CharField()
    live_trade = serializers.IntegerField(source="live_trade_id", allow_null=True)
    live_signal_bar = serializers.DateTimeField(allow_null=True)
    live_units = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True)
    live_open_time = serializers.DateTimeField(allow_null=True)
    live_open_price = serializers.DecimalField(max_digits=20, decimal_places=10, allow_null=True)
    live_close_time = serializers.DateTimeField(allow_null=True)
    live_close_price = serializers.DecimalField(max_digits=20, decimal_places=10, allow_null=True)
    live_profit = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True)
    live_close_reason = serializers.CharField()
    backtest_ticket = serializers.IntegerField(allow_null=True)
    backtest_units = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True)
    backtest_open_time = serializers.DateTimeField(allow_null=True)
    backtest_open_price = serializers.DecimalField(max_digits=20, decimal_places=10, allow_null=True)
    backtest_close_time = serializers.DateTimeField(allow_null=True)
    backtest_close_price = serializers.DecimalField(max_digits=20, decimal_places=10, allow_null=True)
    backtest_profit = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True)
    backtest_close_reason = serializers.CharField()
    open_offset_seconds = serializers.IntegerField(allow_null=True)
    entry_slippage_points = serializers.IntegerField(allow_null=True)
    entry_slippage = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True)
    exit_slippage_points = serializers.IntegerField(allow_null=True)
    exit_slippage = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True)
    profit_difference = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True)
    close_reason_differs = serializers.BooleanField()
    note = serializers.CharField()


class DriftReportOutputSerializer(ApiSerializer):
    id = serializers.IntegerField()
    instance = serializers.IntegerField(source="instance_id", allow_null=True)
    status = serializers.CharField()
    task_id = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    tolerance_seconds = serializers.IntegerField()
    strategy_id = serializers.IntegerField()
    symbol = serializers.CharField()
    timeframe = serializers.IntegerField()
    parameters = serializers.JSONField()
    initial_balance = serializers.DecimalField(max_digits=20, decimal_places=2)
    account_currency = serializers.CharField()
    costs = serializers.JSONField()
    bars_replayed = serializers.IntegerField()
    live_executions = serializers.IntegerField()
    live_executions_failed = serializers.IntegerField()
    matched = serializers.IntegerField()
    live_only = serializers.IntegerField()
    backtest_only = serializers.IntegerField()
    close_reason_differences = serializers.IntegerField()
    live_profit = serializers.DecimalField(max_digits=20, decimal_places=6)
    backtest_profit = serializers.DecimalField(max_digits=20, decimal_places=6)
    profit_difference = serializers.DecimalField(max_digits=20, decimal_places=6)
    entry_slippage = serializers.DecimalField(max_digits=20, decimal_places=6)
    exit_slippage = serializers.DecimalField(max_digits=20, decimal_places=6)
    verdict = serializers.CharField()
    summary = serializers.CharField()
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class DriftReportInputSerializer(InstanceInputSerializer):
    start = bar_time_field(help_text="First bar open of the period, UTC")
    end = bar_time_field(help_text="Last bar open of the period, UTC")
    tolerance_seconds = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=31 * 86400,
        help_text="Open times this close are the same trade; default one bar",
    )
    initial_balance = serializers.DecimalField(
        max_digits=20,
        decimal_places=2,
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_BALANCE,
        help_text="Default: the account's balance at the start",
    )


@extend_schema_view(
    get=extend_schema(operation_id="drift_reports_list", responses=DriftReportOutputSerializer(many=True)),
    post=extend_schema(
        operation_id="drift_reports_create",
        request=DriftReportInputSerializer,
        responses={201: DriftReportOutputSerializer},
    ),
)
class DriftReportListApi(ListCreateApi):
    output_serializer = DriftReportOutputSerializer
    input_serializer = DriftReportInputSerializer
    service_errors = (DriftError,)
    error_field = "period"

    def rows(self, user) -> QuerySet[DriftReport]:
        return drift_report_list_for_user(user=user)

    def create(self, data: dict, user) -> DriftReport:
        tolerance = data.get("tolerance_seconds")
        report = drift_report_create(
            instance_id=data["instance"].pk,
            start=data["start"],
            end=data["end"],
            tolerance=None if tolerance is None else timedelta(seconds=tolerance),
            initial_balance=data.get("initial_balance"),
            owner=user,
        )
        return drift_report_enqueue(report=report)


class DriftReportDetailApi(APIView):
    @extend_schema(operation_id="drift_reports_retrieve", responses=DriftReportOutputSerializer)
    def get(self, request: Request, report_id: int) -> Response:
        report = get_object_or_404(drift_report_list_for_user(user=request.user), pk=report_id)
        return Response(
            {
                **DriftReportOutputSerializer(report).data,
                "rows": DriftTradeOutputSerializer(report.rows.all(), many=True).data,
            }
        )
