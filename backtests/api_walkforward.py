"""Walk-forward API: create (queued on Celery), list and read the caller's walk-forwards with their windows."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backtests.api import OptimizationInputSerializer
from backtests.api_base import ListCreateApi, bar_time_field, costs_from
from backtests.engine.stats import MT_NAMES
from backtests.models import WalkForward, WindowMode
from backtests.permissions import job_change_check
from backtests.report import equity_chart, statistics_rows
from backtests.selectors import walkforward_list_for_user
from backtests.services.bounds import LAST_TIME
from backtests.services.walkforward import WalkForwardError, walkforward_create
from backtests.services.walkforward_run import walkforward_cancel, walkforward_enqueue, walkforward_progress
from trading.api.utils import ApiSerializer

MAX_PERIOD = timedelta(days=20 * 366)
MAX_WINDOWS = 1000


class WalkForwardWindowOutputSerializer(ApiSerializer):
    index = serializers.IntegerField()
    in_sample_start = serializers.DateTimeField()
    in_sample_end = serializers.DateTimeField()
    out_of_sample_start = serializers.DateTimeField()
    out_of_sample_end = serializers.DateTimeField()
    optimization = serializers.IntegerField(source="optimization_id", allow_null=True)
    status = serializers.CharField()
    optimised_at = serializers.DateTimeField(allow_null=True)
    parameters = serializers.JSONField()
    in_sample_statistics = serializers.JSONField()
    out_of_sample_statistics = serializers.JSONField()
    in_sample_return = serializers.FloatField(allow_null=True)
    out_of_sample_return = serializers.FloatField(allow_null=True)
    efficiency = serializers.FloatField(allow_null=True)
    start_balance = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    end_balance = serializers.DecimalField(max_digits=20, decimal_places=2, allow_null=True)
    error = serializers.CharField()
    model = serializers.IntegerField(source="model_id", allow_null=True, help_text="ModelArtifact trained in-sample")
    model_sha256 = serializers.CharField(source="model.sha256", allow_null=True, default=None)
    model_train_start = serializers.DateTimeField(source="model.train_start", allow_null=True, default=None)
    model_train_end = serializers.DateTimeField(source="model.train_end", allow_null=True, default=None)


class WalkForwardOutputSerializer(ApiSerializer):
    id = serializers.IntegerField()
    instance = serializers.IntegerField(source="instance_id", allow_null=True)
    mode = serializers.CharField()
    start = serializers.DateTimeField()
    in_sample = serializers.DurationField()
    out_of_sample = serializers.DurationField()
    windows = serializers.IntegerField()
    method = serializers.CharField()
    space = serializers.JSONField()
    samples = serializers.IntegerField()
    seed = serializers.IntegerField()
    select_by = serializers.CharField()
    select_descending = serializers.BooleanField()
    engine = serializers.CharField()
    status = serializers.CharField()
    task_id = serializers.CharField()
    initial_balance = serializers.DecimalField(max_digits=20, decimal_places=2)
    costs = serializers.JSONField()
    windows_optimised = serializers.IntegerField()
    windows_done = serializers.IntegerField()
    efficiency = serializers.FloatField(allow_null=True)
    parameter_stability = serializers.JSONField()
    statistics = serializers.JSONField()
    curve = serializers.JSONField()
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class WalkForwardInputSerializer(OptimizationInputSerializer):
    start = bar_time_field(help_text="Start of the first in-sample part, UTC")
    mode = serializers.ChoiceField(choices=WindowMode.choices, default=WindowMode.ROLLING)
    in_sample = serializers.DurationField(
        min_value=timedelta(minutes=1), max_value=MAX_PERIOD, help_text="In-sample length, e.g. '90 00:00:00' (90 days)"
    )
    out_of_sample = serializers.DurationField(
        min_value=timedelta(minutes=1),
        max_value=MAX_PERIOD,
        help_text="Out-of-sample length; also the step between windows",
    )
    windows = serializers.IntegerField(min_value=1, max_value=MAX_WINDOWS)
    select_by = serializers.ChoiceField(choices=sorted(MT_NAMES), default="net_profit")
    select_order = serializers.ChoiceField(choices=["asc", "desc"], default="desc")

    def validate(self, data: dict) -> dict:
        data = super().validate(data)
        last = data["start"] + data["in_sample"] + data["out_of_sample"] * data["windows"]
        if last > LAST_TIME:
            raise serializers.ValidationError(
                {"in_sample": [f"the windows end at {last:%Y-%m-%d}, after {LAST_TIME:%Y-%m-%d}, the last bar time"]}
            )
        return data


@extend_schema_view(
    get=extend_schema(operation_id="walkforwards_list", responses=WalkForwardOutputSerializer(many=True)),
    post=extend_schema(
        operation_id="walkforwards_create",
        request=WalkForwardInputSerializer,
        responses={201: WalkForwardOutputSerializer},
    ),
)
class WalkForwardListApi(ListCreateApi):
    output_serializer = WalkForwardOutputSerializer
    input_serializer = WalkForwardInputSerializer
    service_errors = (WalkForwardError,)
    error_field = "walk_forward"

    def rows(self, user) -> QuerySet[WalkForward]:
        return walkforward_list_for_user(user=user)

    def create(self, data: dict, user) -> WalkForward:
        wf = walkforward_create(
            instance=data["instance"],
            start=data["start"],
            in_sample=data["in_sample"],
            out_of_sample=data["out_of_sample"],
            windows=data["windows"],
            mode=data["mode"],
            space=data["space"],
            method=data["method"],
            samples=data["samples"],
            seed=data["seed"],
            select_by=data["select_by"],
            select_descending=data["select_order"] == "desc",
            costs=costs_from(data),
            initial_balance=data["initial_balance"],
            engine=data["engine"],
            owner=user,
        )
        return walkforward_enqueue(walk_forward=wf)


class WalkForwardDetailApi(APIView):
    @extend_schema(operation_id="walkforwards_retrieve", responses=WalkForwardOutputSerializer)
    def get(self, request: Request, walk_forward_id: int) -> Response:
        wf = get_object_or_404(walkforward_list_for_user(user=request.user), pk=walk_forward_id)
        rows = wf.window_rows.order_by("index")
        progress = walkforward_progress(walk_forward=wf)
        return Response(
            {
                **WalkForwardOutputSerializer(wf).data,
                "progress": {
                    "fraction": progress.fraction,
                    "passes_done": progress.passes_done,
                    "passes_total": progress.passes_total,
                },
                "window_rows": WalkForwardWindowOutputSerializer(rows, many=True).data,
            }
        )


class WalkForwardCancelApi(APIView):
    @extend_schema(operation_id="walkforwards_cancel", request=None, responses={200: WalkForwardOutputSerializer})
    def post(self, request: Request, walk_forward_id: int) -> Response:
        """Cancel a pending or running walk-forward: queued passes are skipped, the run is marked cancelled."""
        wf = get_object_or_404(walkforward_list_for_user(user=request.user), pk=walk_forward_id)
        job_change_check(request.user, wf)
        if not walkforward_cancel(walk_forward_id=wf.pk):
            raise serializers.ValidationError({"status": [f"walk-forward {wf.pk} already ended ({wf.status})"]})
        wf.refresh_from_db()
        return Response(WalkForwardOutputSerializer(wf).data)


class WalkForwardReportApi(APIView):
    @extend_schema(operation_id="walkforwards_report", responses={(200, "text/html"): str})
    def get(self, request: Request, walk_forward_id: int) -> HttpResponse:
        wf = get_object_or_404(walkforward_list_for_user(user=request.user), pk=walk_forward_id)
        context = {
            "wf": wf,
            "rows": list(wf.window_rows.order_by("index")),
            "equity": equity_chart(wf),
            "statistics": statistics_rows(wf),
        }
        response = HttpResponse(
            render_to_string("backtests/walkforward_report.html", context), content_type="text/html; charset=utf-8"
        )
        response["Content-Disposition"] = f'inline; filename="walkforward-{wf.pk}.html"'
        return response
