"""Trades of the caller's accounts, with P/L; manual close."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trading.api.orders import OrderOutputSerializer
from trading.api.utils import (
    ApiSerializer,
    LimitOffsetPagination,
    decimal_string,
    id_field,
    magic_field,
    paginated_response,
    validate_input,
)
from trading.models import TradeState
from trading.permissions import NOT_FOUND, Action, object_check
from trading.selectors.trades import trade_list
from trading.services.trades import trade_close


def _trade(request: Request, trade_id: int):  # noqa: ANN202 - a Trade
    trade = trade_list(user=request.user).filter(pk=trade_id).first()
    if trade is None:
        raise NotFound(NOT_FOUND)
    return trade


class TradeOutputSerializer(ApiSerializer):
    id = serializers.IntegerField(help_text="Also the framework ticket")
    account = serializers.IntegerField(source="account_id")
    currency = serializers.CharField(source="account.currency", help_text="Currency of the P/L amounts")
    instance = serializers.IntegerField(source="instance_id", allow_null=True)
    instrument = serializers.CharField(source="instrument.symbol")
    broker_trade_id = serializers.CharField()
    side = serializers.CharField()
    state = serializers.CharField()
    initial_units = decimal_string()
    current_units = decimal_string()
    open_time = serializers.DateTimeField()
    open_price = decimal_string()
    close_time = serializers.DateTimeField(allow_null=True)
    close_price = decimal_string(allow_null=True)
    close_reason = serializers.CharField()
    stop_loss = decimal_string(allow_null=True)
    take_profit = decimal_string(allow_null=True)
    trailing_distance = decimal_string(allow_null=True)
    realized_pl = decimal_string()
    unrealized_pl = decimal_string()
    financing = decimal_string()
    commission = decimal_string()
    margin_used = decimal_string()


class TradeListApi(APIView):
    pagination_class = LimitOffsetPagination

    class FilterSerializer(ApiSerializer):
        account = id_field(required=False)
        instance = magic_field(required=False)
        instrument = serializers.CharField(required=False, max_length=20)
        state = serializers.ChoiceField(choices=TradeState.choices, required=False)
        start = serializers.DateTimeField(required=False, help_text="Opened at or after, ISO 8601")
        end = serializers.DateTimeField(required=False, help_text="Opened at or before, ISO 8601")

    @extend_schema(
        operation_id="trades_list", parameters=[FilterSerializer], responses=TradeOutputSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        filters = validate_input(TradeListApi.FilterSerializer, request.query_params)
        return paginated_response(
            serializer_class=TradeOutputSerializer,
            queryset=trade_list(user=request.user, filters=filters),
            request=request,
            view=self,
        )


class TradeDetailApi(APIView):
    @extend_schema(operation_id="trades_retrieve", responses=TradeOutputSerializer)
    def get(self, request: Request, trade_id: int) -> Response:
        return Response(TradeOutputSerializer(_trade(request, trade_id)).data)


class TradeCloseApi(APIView):
    @extend_schema(operation_id="trades_close", request=None, responses={202: OrderOutputSerializer})
    def post(self, request: Request, trade_id: int) -> Response:
        trade = _trade(request, trade_id)
        object_check(request.user, trade, Action.TRADE)
        order = trade_close(trade=trade, user=request.user, source="api")
        return Response(OrderOutputSerializer(order).data, status=status.HTTP_202_ACCEPTED)
