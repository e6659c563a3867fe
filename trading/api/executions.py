"""Strategy runs of the caller's instances."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trading.api.utils import ApiSerializer, LimitOffsetPagination, magic_field, paginated_response, validate_input
from trading.models import ExecutionStatus
from trading.selectors.executions import execution_list_for_user


class ExecutionOutputSerializer(ApiSerializer):
    id = serializers.IntegerField()
    instance = serializers.IntegerField(source="instance_id")
    bar_time = serializers.DateTimeField(help_text="Open time of the last complete primary bar used, UTC")
    status = serializers.CharField()
    started_at = serializers.DateTimeField()
    duration_ms = serializers.FloatField(allow_null=True)
    return_code = serializers.IntegerField(allow_null=True)
    signals = serializers.JSONField()
    orders_placed = serializers.IntegerField()
    attempts = serializers.IntegerField()
    error = serializers.CharField()


class ExecutionListApi(APIView):
    pagination_class = LimitOffsetPagination

    class FilterSerializer(ApiSerializer):
        instance = magic_field(required=False)
        status = serializers.ChoiceField(choices=ExecutionStatus.choices, required=False)
        start = serializers.DateTimeField(required=False, help_text="Bar time at or after, ISO 8601")
        end = serializers.DateTimeField(required=False, help_text="Bar time at or before, ISO 8601")

    @extend_schema(
        operation_id="executions_list", parameters=[FilterSerializer], responses=ExecutionOutputSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        filters = validate_input(ExecutionListApi.FilterSerializer, request.query_params)
        return paginated_response(
            serializer_class=ExecutionOutputSerializer,
            queryset=execution_list_for_user(user=request.user, filters=filters),
            request=request,
            view=self,
        )


class ExecutionDetailApi(APIView):
    @extend_schema(operation_id="executions_retrieve", responses=ExecutionOutputSerializer)
    def get(self, request: Request, execution_id: int) -> Response:
        execution = get_object_or_404(execution_list_for_user(user=request.user), pk=execution_id)
        return Response(ExecutionOutputSerializer(execution).data)
