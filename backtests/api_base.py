"""What the backtester's APIs share: the owned-instance and cost inputs, and list + create of owner-scoped rows."""

from __future__ import annotations

from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Model, QuerySet
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backtests.engine.market import Costs
from backtests.services.bounds import FIRST_TIME, LAST_TIME, MAX_MONEY_PER_LOT, MAX_POINTS
from trading.api.utils import (
    ApiSerializer,
    FiniteFloatField,
    LimitOffsetPagination,
    paginated_response,
    validate_input,
)
from trading.models import StrategyInstance
from trading.permissions import Action, accounts_q

COST_FIELDS = (
    "commission_per_lot",
    "swap_long_per_lot",
    "swap_short_per_lot",
    "slippage_points",
    "min_stop_points",
    "min_stop_mode",
)


class InstanceInputSerializer(ApiSerializer):
    """``instance``: the id of an instance on an account the caller may trade on; validated into the instance."""

    instance = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, help_text="Id of a strategy instance on an account you may trade on"
    )

    def validate_instance(self, value: int) -> StrategyInstance:
        instance = (
            StrategyInstance.objects.filter(accounts_q(self.context["user"], Action.TRADE, via="account__"), pk=value)
            .select_related("instrument", "account")
            .first()
        )
        if instance is None:
            raise serializers.ValidationError(f"no instance {value} that you may trade on")
        return instance


class CostsInputSerializer(ApiSerializer):
    """The simulated broker's costs (backtests.engine.market.Costs), bounded so no run can overflow."""

    spread_points = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=MAX_POINTS,
        help_text="Fixed spread; empty = each bar's stored spread",
    )
    commission_per_lot = FiniteFloatField(default=0.0, min_value=0.0, max_value=MAX_MONEY_PER_LOT)
    swap_long_per_lot = FiniteFloatField(default=0.0, min_value=-MAX_MONEY_PER_LOT, max_value=MAX_MONEY_PER_LOT)
    swap_short_per_lot = FiniteFloatField(default=0.0, min_value=-MAX_MONEY_PER_LOT, max_value=MAX_MONEY_PER_LOT)
    slippage_points = serializers.IntegerField(default=0, min_value=0, max_value=MAX_POINTS)
    min_stop_points = serializers.IntegerField(default=0, min_value=0, max_value=MAX_POINTS)
    min_stop_mode = serializers.ChoiceField(choices=["reject", "widen"], default="reject")


def bar_time_field(**kwargs: Any) -> serializers.DateTimeField:
    """A UTC time inside the bars' range (1970..2038): nothing later can be tested, nor reach the ABI."""
    return serializers.DateTimeField(validators=[MinValueValidator(FIRST_TIME), MaxValueValidator(LAST_TIME)], **kwargs)


def costs_from(data: dict[str, Any]) -> Costs:
    """The Costs of validated CostsInputSerializer data."""
    return Costs(**{name: data[name] for name in COST_FIELDS}, spread_points=data.get("spread_points"))


class ListCreateApi(APIView):
    """GET: the caller's rows, one page; POST: validate the input, create (and queue) with a service, answer 201.

    A subclass names its serializers and the service errors that are the caller's fault (400 under
    ``error_field``), and implements ``rows`` and ``create``; its schema comes from ``extend_schema_view``.
    """

    pagination_class = LimitOffsetPagination
    output_serializer: type[serializers.Serializer]
    input_serializer: type[serializers.Serializer]
    service_errors: tuple[type[Exception], ...] = ()
    error_field = "non_field_errors"

    def rows(self, user: Any) -> QuerySet[Any]:
        raise NotImplementedError

    def create(self, data: dict[str, Any], user: Any) -> Model:
        raise NotImplementedError

    def get(self, request: Request) -> Response:
        return paginated_response(
            serializer_class=self.output_serializer, queryset=self.rows(request.user), request=request, view=self
        )

    def post(self, request: Request) -> Response:
        data = validate_input(self.input_serializer, request.data, context={"user": request.user})
        try:
            row = self.create(data, request.user)
        except self.service_errors as e:
            raise serializers.ValidationError({self.error_field: [str(e)]}) from e
        row.refresh_from_db()
        return Response(self.output_serializer(row).data, status=status.HTTP_201_CREATED)
