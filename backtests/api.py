"""Backtests API: create (queued on Celery), list and read the caller's runs; trades as CSV; the HTML report."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backtests.api_base import (
    CostsInputSerializer,
    InstanceInputSerializer,
    ListCreateApi,
    bar_time_field,
    costs_from,
)
from backtests.models import BacktestRun, Engine, Optimization, SearchMethod
from backtests.report import report_context, trades_csv
from backtests.selectors import backtest_run_list_for_user, optimization_list_for_user
from backtests.services.bounds import MAX_BALANCE
from backtests.services.optimization import (
    MAX_PASSES,
    OptimizationError,
    optimization_create,
    optimization_enqueue,
    optimization_pass_apply,
    optimization_passes_sorted,
)
from backtests.services.runs import backtest_run_create, backtest_run_enqueue
from framework import get_strategy
from trading.api.utils import ApiSerializer, FiniteFloatField, validate_input
from trading.permissions import Action, account_allows


class BacktestRunOutputSerializer(ApiSerializer):
    id = serializers.IntegerField()
    instance = serializers.IntegerField(source="instance_id", allow_null=True)
    engine = serializers.CharField()
    status = serializers.CharField()
    progress = serializers.FloatField()
    task_id = serializers.CharField()
    strategy_id = serializers.IntegerField()
    symbol = serializers.CharField()
    timeframe = serializers.IntegerField()
    parameters = serializers.JSONField()
    start = serializers.DateTimeField(allow_null=True)
    end = serializers.DateTimeField(allow_null=True)
    initial_balance = serializers.DecimalField(max_digits=20, decimal_places=2)
    account_currency = serializers.CharField()
    costs = serializers.JSONField()
    bars_tested = serializers.IntegerField()
    first_bar = serializers.DateTimeField(allow_null=True)
    last_bar = serializers.DateTimeField(allow_null=True)
    statistics = serializers.JSONField()
    rejected_orders = serializers.IntegerField()
    duration_seconds = serializers.FloatField()
    library_version = serializers.CharField()
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class BacktestRunInputSerializer(InstanceInputSerializer, CostsInputSerializer):
    start = bar_time_field(required=False, allow_null=True, help_text="First bar open, UTC")
    end = bar_time_field(required=False, allow_null=True, help_text="Last bar open, UTC")
    engine = serializers.ChoiceField(choices=Engine.choices, default=Engine.PARITY)
    initial_balance = serializers.DecimalField(
        max_digits=20, decimal_places=2, default=Decimal("10000"), min_value=1, max_value=MAX_BALANCE
    )
    parameters = serializers.DictField(
        child=FiniteFloatField(),
        required=False,
        default=dict,
        help_text="Strategy parameters overriding the instance's",
    )

    def validate(self, data: dict) -> dict:
        if data.get("start") and data.get("end") and data["start"] >= data["end"]:
            raise serializers.ValidationError({"end": ["must be after start"]})
        spec = get_strategy(data["instance"].strategy_id)
        for name, value in data.get("parameters", {}).items():
            try:
                param = spec.param(name)
            except (KeyError, LookupError):
                raise serializers.ValidationError({"parameters": [f"{spec.name} has no parameter {name}"]}) from None
            if not param.minimum <= value <= param.maximum or (param.integer and value != int(value)):
                kind = "an integer " if param.integer else ""
                raise serializers.ValidationError(
                    {"parameters": [f"{name} must be {kind}in [{param.minimum}, {param.maximum}] (was {value})"]}
                )
        return data


@extend_schema_view(
    get=extend_schema(operation_id="backtests_list", responses=BacktestRunOutputSerializer(many=True)),
    post=extend_schema(
        operation_id="backtests_create",
        request=BacktestRunInputSerializer,
        responses={201: BacktestRunOutputSerializer},
    ),
)
class BacktestRunListApi(ListCreateApi):
    output_serializer = BacktestRunOutputSerializer
    input_serializer = BacktestRunInputSerializer

    def rows(self, user) -> QuerySet[BacktestRun]:
        return backtest_run_list_for_user(user=user)

    def create(self, data: dict, user) -> BacktestRun:
        run = backtest_run_create(
            instance=data["instance"],
            start=data.get("start"),
            end=data.get("end"),
            costs=costs_from(data),
            initial_balance=data["initial_balance"],
            engine=data["engine"],
            parameters=data["parameters"],
            owner=user,
        )
        return backtest_run_enqueue(run=run)


def _run(request: Request, run_id: int) -> BacktestRun:
    return get_object_or_404(backtest_run_list_for_user(user=request.user).select_related("instance"), pk=run_id)


class BacktestRunDetailApi(APIView):
    @extend_schema(operation_id="backtests_retrieve", responses=BacktestRunOutputSerializer)
    def get(self, request: Request, run_id: int) -> Response:
        return Response(BacktestRunOutputSerializer(_run(request, run_id)).data)


class BacktestTradesCsvApi(APIView):
    @extend_schema(operation_id="backtests_trades_csv", responses={(200, "text/csv"): str})
    def get(self, request: Request, run_id: int) -> HttpResponse:
        run = _run(request, run_id)
        response = HttpResponse(trades_csv(run), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="backtest-{run.pk}-trades.csv"'
        return response


class BacktestReportApi(APIView):
    @extend_schema(operation_id="backtests_report", responses={(200, "text/html"): str})
    def get(self, request: Request, run_id: int) -> HttpResponse:
        run = _run(request, run_id)
        response = HttpResponse(
            render_to_string("backtests/report.html", report_context(run)), content_type="text/html; charset=utf-8"
        )
        response["Content-Disposition"] = f'inline; filename="backtest-{run.pk}.html"'
        return response


# --- optimisation -------------------------------------------------------------------------------------------


class OptimizationPassOutputSerializer(ApiSerializer):
    id = serializers.IntegerField()
    index = serializers.IntegerField()
    parameters = serializers.JSONField()
    status = serializers.CharField()
    statistics = serializers.JSONField()
    bars_tested = serializers.IntegerField()
    duration_seconds = serializers.FloatField()
    worker = serializers.CharField()
    error = serializers.CharField()


class OptimizationOutputSerializer(ApiSerializer):
    id = serializers.IntegerField()
    instance = serializers.IntegerField(source="instance_id", allow_null=True)
    method = serializers.CharField()
    space = serializers.JSONField()
    samples = serializers.IntegerField()
    seed = serializers.IntegerField()
    engine = serializers.CharField()
    status = serializers.CharField()
    start = serializers.DateTimeField(allow_null=True)
    end = serializers.DateTimeField(allow_null=True)
    costs = serializers.JSONField()
    passes_total = serializers.IntegerField()
    passes_done = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class OptimizationInputSerializer(BacktestRunInputSerializer):
    method = serializers.ChoiceField(choices=SearchMethod.choices, default=SearchMethod.GRID)
    space = serializers.DictField(help_text="{parameter: {min, max, step}} or {parameter: [values]}")
    samples = serializers.IntegerField(default=0, min_value=0, max_value=MAX_PASSES)
    seed = serializers.IntegerField(default=0, min_value=0, max_value=2**32 - 1)
    engine = serializers.ChoiceField(choices=Engine.choices, default=Engine.FAST)


@extend_schema_view(
    get=extend_schema(operation_id="optimizations_list", responses=OptimizationOutputSerializer(many=True)),
    post=extend_schema(
        operation_id="optimizations_create",
        request=OptimizationInputSerializer,
        responses={201: OptimizationOutputSerializer},
    ),
)
class OptimizationListApi(ListCreateApi):
    output_serializer = OptimizationOutputSerializer
    input_serializer = OptimizationInputSerializer
    service_errors = (OptimizationError,)
    error_field = "space"

    def rows(self, user) -> QuerySet[Optimization]:
        return optimization_list_for_user(user=user)

    def create(self, data: dict, user) -> Optimization:
        opt = optimization_create(
            instance=data["instance"],
            space=data["space"],
            method=data["method"],
            samples=data["samples"],
            seed=data["seed"],
            start=data.get("start"),
            end=data.get("end"),
            costs=costs_from(data),
            initial_balance=data["initial_balance"],
            engine=data["engine"],
            owner=user,
        )
        optimization_enqueue(optimization=opt)
        return opt


class OptimizationDetailApi(APIView):
    class FilterSerializer(ApiSerializer):
        sort = serializers.CharField(default="net_profit", help_text="Any statistic key")
        order = serializers.ChoiceField(choices=["asc", "desc"], default="desc")

    @extend_schema(
        operation_id="optimizations_retrieve", parameters=[FilterSerializer], responses=OptimizationOutputSerializer
    )
    def get(self, request: Request, optimization_id: int) -> Response:
        filters = validate_input(OptimizationDetailApi.FilterSerializer, request.query_params)
        opt = get_object_or_404(optimization_list_for_user(user=request.user), pk=optimization_id)
        passes = optimization_passes_sorted(
            optimization=opt, key=filters["sort"], descending=filters["order"] == "desc"
        )
        return Response(
            {
                **OptimizationOutputSerializer(opt).data,
                "passes": OptimizationPassOutputSerializer(passes, many=True).data,
            }
        )


class OptimizationPassApplyApi(APIView):
    class InputSerializer(ApiSerializer):
        mode = serializers.ChoiceField(choices=["update", "create"])
        name = serializers.CharField(required=False, max_length=100)

    @extend_schema(operation_id="optimizations_pass_apply", request=InputSerializer, responses={200: dict, 201: dict})
    def post(self, request: Request, optimization_id: int, pass_id: int) -> Response:
        data = validate_input(OptimizationPassApplyApi.InputSerializer, request.data)
        opt = get_object_or_404(optimization_list_for_user(user=request.user), pk=optimization_id)
        p = get_object_or_404(opt.passes.all(), pk=pass_id)
        if opt.instance is None or not account_allows(request.user, opt.instance.account, Action.TRADE):
            raise serializers.ValidationError({"optimization": ["its instance is gone or you may not trade on it"]})
        instance = optimization_pass_apply(optimization_pass=p, create=data["mode"] == "create", name=data.get("name"))
        return Response(
            {"instance": instance.pk, "parameters": instance.parameters},
            status=status.HTTP_201_CREATED if data["mode"] == "create" else status.HTTP_200_OK,
        )
