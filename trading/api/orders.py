"""Orders of the caller's accounts (read-only: orders are created by strategies and services)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trading.api.utils import (
    ApiSerializer,
    LimitOffsetPagination,
    decimal_string,
    id_field,
    magic_field,
    paginated_response,
    validate_input,
)
from trading.models import OrderStatus
from trading.selectors.orders import order_list_for_user


class OrderOutputSerializer(ApiSerializer):
    id = serializers.IntegerField()
    client_order_id = serializers.CharField()
    account = serializers.IntegerField(source="account_id")
    instance = serializers.IntegerField(source="instance_id", allow_null=True)
    instrument = serializers.CharField(source="instrument.symbol")
    trade = serializers.IntegerField(source="trade_id", allow_null=True)
    intent = serializers.CharField()
    order_type = serializers.CharField()
    side = serializers.CharField()
    units = decimal_string()
    price = decimal_string(allow_null=True)
    stop_loss = decimal_string(allow_null=True)
    take_profit = decimal_string(allow_null=True)
    trailing_distance = decimal_string(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    status = serializers.CharField()
    broker_order_id = serializers.CharField()
    reject_reason = serializers.CharField()
    fill_price = decimal_string(allow_null=True)
    filled_at = serializers.DateTimeField(allow_null=True)
    bar_time = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)


class OrderListApi(APIView):
    pagination_class = LimitOffsetPagination

    class FilterSerializer(ApiSerializer):
        account = id_field(required=False)
        instance = magic_field(required=False)
        instrument = serializers.CharField(required=False, max_length=20)
        status = serializers.ChoiceField(choices=OrderStatus.choices, required=False)
        start = serializers.DateTimeField(required=False, help_text="Created at or after, ISO 8601")
        end = serializers.DateTimeField(required=False, help_text="Created at or before, ISO 8601")

    @extend_schema(
        operation_id="orders_list", parameters=[FilterSerializer], responses=OrderOutputSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        filters = validate_input(OrderListApi.FilterSerializer, request.query_params)
        return paginated_response(
            serializer_class=OrderOutputSerializer,
            queryset=order_list_for_user(user=request.user, filters=filters),
            request=request,
            view=self,
        )


class OrderDetailApi(APIView):
    @extend_schema(operation_id="orders_retrieve", responses=OrderOutputSerializer)
    def get(self, request: Request, order_id: int) -> Response:
        order = get_object_or_404(order_list_for_user(user=request.user), pk=order_id)
        return Response(OrderOutputSerializer(order).data)
