"""Strategy instances: list, create and change (validated against the catalog), enable, disable, run now."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from risk.services.audit import audit_record
from trading.api.utils import (
    INT32_MAX,
    ApiSerializer,
    LimitOffsetPagination,
    decimal_string,
    id_field,
    paginated_response,
    validate_input,
)
from trading.models import BrokerAccount, Instrument, OperationalMode, StrategyInstance
from trading.permissions import Action, instance_get
from trading.selectors.accounts import account_list_for_user
from trading.selectors.instances import instance_list_for_user
from trading.services.execution import execution_enqueue
from trading.services.instances import instance_create, instance_set_enabled, instance_update


class RatesSlotSerializer(ApiSerializer):
    symbol = serializers.CharField(required=False)
    timeframe = serializers.IntegerField()
    bars = serializers.IntegerField()


class InstanceOutputSerializer(ApiSerializer):
    instance_id = serializers.IntegerField(help_text="Magic number")
    name = serializers.CharField()
    account = serializers.IntegerField(source="account_id")
    instrument = serializers.CharField(source="instrument.symbol")
    strategy_id = serializers.IntegerField()
    timeframe = serializers.IntegerField(help_text="Minutes")
    parameters = serializers.DictField(help_text="Strategy parameters by name")
    rates_slots = RatesSlotSerializer(many=True)
    risk_percent = decimal_string()
    max_open_orders = serializers.IntegerField()
    max_spread = decimal_string()
    operational_mode = serializers.IntegerField()
    enabled = serializers.BooleanField()
    last_run_at = serializers.DateTimeField(allow_null=True, default=None)
    last_bar_time = serializers.DateTimeField(allow_null=True, default=None)
    last_status = serializers.CharField(allow_null=True, default=None)
    last_error = serializers.CharField(allow_null=True, default=None, help_text="Newest error of any run")
    last_error_at = serializers.DateTimeField(allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def _annotated(request: Request, instance_id: int, action: Action = Action.VIEW) -> StrategyInstance:
    """One instance with its last-run annotations: 404 when the caller may not see it, 403 when their role
    on its account does not allow ``action``."""
    return instance_get(request.user, instance_id, action, queryset=instance_list_for_user(user=request.user))


class _InstanceFields(ApiSerializer):
    """Types only: the catalog rules (strategy id, timeframe, parameter bounds, slots) live in the service."""

    name = serializers.CharField(max_length=100)
    instrument = serializers.SlugRelatedField(slug_field="symbol", queryset=Instrument.objects.all())
    strategy_id = serializers.IntegerField(min_value=0, max_value=INT32_MAX)
    timeframe = serializers.IntegerField(min_value=1, max_value=43200, help_text="Minutes")
    parameters = serializers.JSONField(required=False)
    rates_slots = serializers.JSONField(required=False)
    risk_percent = serializers.DecimalField(max_digits=6, decimal_places=3, required=False)
    max_open_orders = serializers.IntegerField(required=False, min_value=1, max_value=200)
    max_spread = serializers.DecimalField(max_digits=20, decimal_places=10, required=False)
    operational_mode = serializers.ChoiceField(choices=OperationalMode.choices, required=False)
    enabled = serializers.BooleanField(required=False)


class InstanceListApi(APIView):
    pagination_class = LimitOffsetPagination

    class FilterSerializer(ApiSerializer):
        account = id_field(required=False)
        instrument = serializers.CharField(required=False, max_length=20)
        enabled = serializers.BooleanField(required=False, allow_null=True, default=None)

    @extend_schema(
        operation_id="instances_list", parameters=[FilterSerializer], responses=InstanceOutputSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        filters = validate_input(InstanceListApi.FilterSerializer, request.query_params)
        return paginated_response(
            serializer_class=InstanceOutputSerializer,
            queryset=instance_list_for_user(user=request.user, filters=filters),
            request=request,
            view=self,
        )


class InstanceCreateApi(APIView):
    class InputSerializer(_InstanceFields):
        account = serializers.PrimaryKeyRelatedField(queryset=BrokerAccount.objects.none())
        instance_id = serializers.IntegerField(
            min_value=1, max_value=INT32_MAX, required=False, help_text="Magic number; chosen for you when omitted"
        )

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # Only accounts the caller may trade on can be chosen; any other account id reads as unknown.
            request = self.context.get("request")
            if request is not None:
                account = self.fields["account"]
                assert isinstance(account, serializers.PrimaryKeyRelatedField)  # declared above
                account.queryset = account_list_for_user(user=request.user, action=Action.TRADE)

    @extend_schema(operation_id="instances_create", request=InputSerializer, responses={201: InstanceOutputSerializer})
    def post(self, request: Request) -> Response:
        data = validate_input(InstanceCreateApi.InputSerializer, request.data, context={"request": request})
        instance = instance_create(**data)
        return Response(InstanceOutputSerializer(_annotated(request, instance.pk)).data, status=status.HTTP_201_CREATED)


class InstanceDetailApi(APIView):
    @extend_schema(operation_id="instances_retrieve", responses=InstanceOutputSerializer)
    def get(self, request: Request, instance_id: int) -> Response:
        return Response(InstanceOutputSerializer(_annotated(request, instance_id)).data)


class InstanceUpdateApi(APIView):
    class InputSerializer(_InstanceFields):
        pass

    @extend_schema(operation_id="instances_partial_update", request=InputSerializer, responses=InstanceOutputSerializer)
    def patch(self, request: Request, instance_id: int) -> Response:
        instance = _annotated(request, instance_id, Action.TRADE)
        data = validate_input(InstanceUpdateApi.InputSerializer, request.data, partial=True)
        instance_update(instance, **data)
        return Response(InstanceOutputSerializer(_annotated(request, instance_id)).data)


class InstanceEnableApi(APIView):
    @extend_schema(operation_id="instances_enable", request=None, responses=InstanceOutputSerializer)
    def post(self, request: Request, instance_id: int) -> Response:
        instance = instance_set_enabled(_annotated(request, instance_id, Action.TRADE), True)
        audit_record(user=request.user, action="instance_enable", obj=instance, source="api", details={"enabled": True})
        return Response(InstanceOutputSerializer(_annotated(request, instance_id)).data)


class InstanceDisableApi(APIView):
    @extend_schema(operation_id="instances_disable", request=None, responses=InstanceOutputSerializer)
    def post(self, request: Request, instance_id: int) -> Response:
        instance = instance_set_enabled(_annotated(request, instance_id, Action.TRADE), False)
        audit_record(
            user=request.user, action="instance_disable", obj=instance, source="api", details={"enabled": False}
        )
        return Response(InstanceOutputSerializer(_annotated(request, instance_id)).data)


class InstanceRunApi(APIView):
    @extend_schema(
        operation_id="instances_run",
        request=None,
        responses={202: inline_serializer("InstanceRunQueued", {"task_id": serializers.CharField()})},
    )
    def post(self, request: Request, instance_id: int) -> Response:
        instance = _annotated(request, instance_id, Action.TRADE)
        task_id = execution_enqueue(instance)
        audit_record(
            user=request.user, action="instance_run_now", obj=instance, source="api", details={"task_id": task_id}
        )
        return Response({"task_id": task_id}, status=status.HTTP_202_ACCEPTED)


class InstanceCollectionRoute(InstanceListApi, InstanceCreateApi):
    """``instances/``: GET lists, POST creates."""


class InstanceItemRoute(InstanceDetailApi, InstanceUpdateApi):
    """``instances/<instance_id>/``: GET reads, PATCH changes."""
