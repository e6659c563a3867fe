"""Bars of one instrument and timeframe, oldest first; prices converted from integer points."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trading.api.utils import ApiSerializer, LimitOffsetPagination, decimal_string, paginated_response, validate_input
from trading.models import Bar, Instrument, Timeframe
from trading.selectors.bars import bar_list

TIMEFRAMES = ", ".join(str(v) for v in Timeframe.values)


class BarOutputSerializer(ApiSerializer):
    time = serializers.DateTimeField(help_text="Open time, UTC")
    open = decimal_string()
    high = decimal_string()
    low = decimal_string()
    close = decimal_string()
    volume = serializers.IntegerField()
    spread_points = serializers.IntegerField(source="spread", allow_null=True)
    complete = serializers.BooleanField()

    def to_representation(self, bar: Bar) -> dict[str, Any]:
        data = super().to_representation(bar)
        for field in ("open", "high", "low", "close"):
            data[field] = f"{bar.instrument.from_points(getattr(bar, field)):f}"
        return data


class BarListApi(APIView):
    pagination_class = LimitOffsetPagination

    class FilterSerializer(ApiSerializer):
        instrument = serializers.CharField(help_text="Symbol, e.g. EURUSD")
        timeframe = serializers.IntegerField(help_text=f"Minutes: one of {TIMEFRAMES}")
        start = serializers.DateTimeField(required=False, help_text="Earliest open time (inclusive), ISO 8601")
        end = serializers.DateTimeField(required=False, help_text="Latest open time (inclusive), ISO 8601")

        def validate_instrument(self, value: str) -> Instrument:
            try:
                return Instrument.objects.get(symbol=value)
            except Instrument.DoesNotExist:
                raise serializers.ValidationError(f"{value!r} is not a known instrument symbol") from None

        def validate_timeframe(self, value: int) -> int:
            if value not in Timeframe.values:
                raise serializers.ValidationError(f"{value} is not a timeframe; use one of {TIMEFRAMES} (minutes)")
            return value

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            start, end = attrs.get("start"), attrs.get("end")
            if start is not None and end is not None and start > end:
                raise serializers.ValidationError({"end": f"end {end.isoformat()} is before start {start.isoformat()}"})
            return attrs

    @extend_schema(operation_id="bars_list", parameters=[FilterSerializer], responses=BarOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        filters = validate_input(BarListApi.FilterSerializer, request.query_params)
        return paginated_response(
            serializer_class=BarOutputSerializer,
            queryset=bar_list(**filters),
            request=request,
            view=self,
        )
