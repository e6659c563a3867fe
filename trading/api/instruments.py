"""Instruments: any signed-in user lists and reads them; staff create and change them."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trading.api.permissions import IsStaffForWrites
from trading.api.utils import ApiSerializer, LimitOffsetPagination, decimal_string, paginated_response, validate_input
from trading.models import Instrument, InstrumentKind
from trading.services.instruments import instrument_create, instrument_update


class InstrumentOutputSerializer(ApiSerializer):
    symbol = serializers.CharField()
    broker_symbol = serializers.CharField()
    kind = serializers.CharField()
    base_currency = serializers.CharField()
    quote_currency = serializers.CharField()
    digits = serializers.IntegerField()
    point = decimal_string()
    pip_location = serializers.IntegerField()
    contract_size = decimal_string()
    unit_precision = serializers.IntegerField()
    min_units = decimal_string()
    margin_rate = decimal_string()
    spread_points = serializers.IntegerField()
    minimum_stop_points = serializers.IntegerField()


class _InstrumentFields(ApiSerializer):
    broker_symbol = serializers.CharField(max_length=32, required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=InstrumentKind.choices, required=False)
    base_currency = serializers.CharField(max_length=3)
    quote_currency = serializers.CharField(max_length=3)
    digits = serializers.IntegerField(min_value=0, max_value=10, required=False)
    pip_location = serializers.IntegerField(min_value=-10, max_value=10, required=False)
    contract_size = serializers.DecimalField(max_digits=16, decimal_places=4, required=False)
    unit_precision = serializers.IntegerField(min_value=0, max_value=10, required=False)
    min_units = serializers.DecimalField(max_digits=16, decimal_places=6, required=False)
    margin_rate = serializers.DecimalField(max_digits=8, decimal_places=6, required=False)
    spread_points = serializers.IntegerField(min_value=0, required=False)
    minimum_stop_points = serializers.IntegerField(min_value=0, required=False)


class InstrumentListApi(APIView):
    permission_classes = [IsStaffForWrites]
    pagination_class = LimitOffsetPagination

    @extend_schema(operation_id="instruments_list", responses=InstrumentOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        return paginated_response(
            serializer_class=InstrumentOutputSerializer,
            queryset=Instrument.objects.order_by("symbol"),
            request=request,
            view=self,
        )


class InstrumentCreateApi(APIView):
    permission_classes = [IsStaffForWrites]

    class InputSerializer(_InstrumentFields):
        symbol = serializers.CharField(max_length=20)

    @extend_schema(
        operation_id="instruments_create", request=InputSerializer, responses={201: InstrumentOutputSerializer}
    )
    def post(self, request: Request) -> Response:
        data = validate_input(InstrumentCreateApi.InputSerializer, request.data)
        instrument = instrument_create(**data)
        return Response(InstrumentOutputSerializer(instrument).data, status=status.HTTP_201_CREATED)


class InstrumentDetailApi(APIView):
    permission_classes = [IsStaffForWrites]

    @extend_schema(operation_id="instruments_retrieve", responses=InstrumentOutputSerializer)
    def get(self, request: Request, symbol: str) -> Response:
        instrument = get_object_or_404(Instrument, symbol=symbol)
        return Response(InstrumentOutputSerializer(instrument).data)


class InstrumentUpdateApi(APIView):
    permission_classes = [IsStaffForWrites]

    class InputSerializer(_InstrumentFields):
        pass

    @extend_schema(
        operation_id="instruments_partial_update", request=InputSerializer, responses=InstrumentOutputSerializer
    )
    def patch(self, request: Request, symbol: str) -> Response:
        instrument = get_object_or_404(Instrument, symbol=symbol)
        data = validate_input(InstrumentUpdateApi.InputSerializer, request.data, partial=True)
        instrument = instrument_update(instrument, **data)
        return Response(InstrumentOutputSerializer(instrument).data)


class InstrumentCollectionRoute(InstrumentListApi, InstrumentCreateApi):
    """``instruments/``: GET lists, POST creates (staff)."""


class InstrumentItemRoute(InstrumentDetailApi, InstrumentUpdateApi):
    """``instruments/<symbol>/``: GET reads, PATCH changes (staff)."""
