"""The framework's strategy catalog: ids, names, parameters (defaults and bounds) and rates slots."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from framework import UnknownStrategyError, get_strategy, strategy_catalog
from framework.pystrategy import load_errors
from trading.api.utils import ApiSerializer


class ParamOutputSerializer(ApiSerializer):
    name = serializers.CharField()
    index = serializers.IntegerField(help_text="Settings index the parameter is passed at")
    default = serializers.FloatField()
    minimum = serializers.FloatField()
    maximum = serializers.FloatField()
    integer = serializers.BooleanField(help_text="Whole numbers only")
    description = serializers.CharField()


class SlotOutputSerializer(ApiSerializer):
    index = serializers.IntegerField()
    role = serializers.CharField()
    timeframe = serializers.JSONField(help_text='"primary" (the instance timeframe) or minutes')
    min_bars = serializers.IntegerField(help_text="Bars the strategy refuses to run without (default parameters)")
    warm_bars = serializers.IntegerField(help_text="Bars the platform passes: min_bars plus indicator settling")


class StrategyOutputSerializer(ApiSerializer):
    id = serializers.IntegerField(help_text="strategy_id of an instance")
    name = serializers.CharField()
    kind = serializers.CharField(help_text='"c" (the strategy library) or "python" (a strategies folder file)')
    description = serializers.CharField()
    params = ParamOutputSerializer(many=True)
    slots = SlotOutputSerializer(many=True)


class LoadErrorOutputSerializer(ApiSerializer):
    path = serializers.CharField(help_text="The strategy file (or folder)")
    message = serializers.CharField(help_text="Why it was not loaded")


class StrategyLoadErrorListApi(APIView):
    """Python strategy files (or classes) that failed to load in this process, with the reason."""

    @extend_schema(operation_id="catalog_strategy_load_errors_list", responses=LoadErrorOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(LoadErrorOutputSerializer(load_errors(), many=True).data)


class StrategyListApi(APIView):
    @extend_schema(operation_id="catalog_strategies_list", responses=StrategyOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(StrategyOutputSerializer(strategy_catalog(), many=True).data)


class StrategyDetailApi(APIView):
    @extend_schema(operation_id="catalog_strategies_retrieve", responses=StrategyOutputSerializer)
    def get(self, request: Request, strategy_id: int) -> Response:
        try:
            spec = get_strategy(strategy_id)
        except UnknownStrategyError as e:
            raise NotFound(f"{strategy_id} is not a strategy id in the framework catalog") from e
        return Response(StrategyOutputSerializer(spec).data)
