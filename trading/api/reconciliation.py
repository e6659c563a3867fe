"""Reconciliation: run it for an account, list the differences, resolve one with adopt / close / ignore."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
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
from trading.models import Discrepancy, DiscrepancyAction, DiscrepancyStatus
from trading.permissions import Action, account_get, instance_get, object_check
from trading.selectors.accounts import account_list_for_user
from trading.services.discrepancies import discrepancy_resolve_checked
from trading.services.reconcile import reconcile_detect


class DiscrepancyOutputSerializer(ApiSerializer):
    id = serializers.IntegerField()
    account = serializers.IntegerField(source="account_id")
    instance = serializers.IntegerField(source="instance_id", allow_null=True)
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")
    status = serializers.CharField()
    symbol = serializers.CharField()
    side = serializers.CharField()
    broker_trade_id = serializers.CharField()
    broker_order_id = serializers.CharField()
    trade = serializers.IntegerField(source="trade_id", allow_null=True)
    order = serializers.IntegerField(source="order_id", allow_null=True)
    broker_units = decimal_string(allow_null=True)
    db_units = decimal_string(allow_null=True)
    broker_price = decimal_string(allow_null=True)
    detail = serializers.CharField()
    found_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolution = serializers.CharField()


def _discrepancies_for(request: Request):  # noqa: ANN202 - a queryset
    return Discrepancy.objects.filter(account__in=account_list_for_user(user=request.user)).select_related("account")


class DiscrepancyListApi(APIView):
    pagination_class = LimitOffsetPagination

    class FilterSerializer(ApiSerializer):
        account = id_field(required=False)
        status = serializers.ChoiceField(choices=DiscrepancyStatus.choices, required=False)

    @extend_schema(
        operation_id="discrepancies_list",
        parameters=[FilterSerializer],
        responses=DiscrepancyOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        filters = validate_input(DiscrepancyListApi.FilterSerializer, request.query_params)
        qs = _discrepancies_for(request)
        if "account" in filters:
            qs = qs.filter(account_id=filters["account"])
        if "status" in filters:
            qs = qs.filter(status=filters["status"])
        return paginated_response(serializer_class=DiscrepancyOutputSerializer, queryset=qs, request=request, view=self)


class AccountReconcileApi(APIView):
    class OutputSerializer(ApiSerializer):
        account = serializers.IntegerField()
        open = serializers.IntegerField()
        new = serializers.IntegerField()
        gone = serializers.IntegerField()

    @extend_schema(operation_id="accounts_reconcile", request=None, responses=OutputSerializer)
    def post(self, request: Request, account_id: int) -> Response:
        account = account_get(request.user, account_id, Action.TRADE)
        report = reconcile_detect(account)
        return Response({"account": account.pk, "open": report.open, "new": report.new, "gone": report.gone})


class DiscrepancyResolveApi(APIView):
    class InputSerializer(ApiSerializer):
        action = serializers.ChoiceField(choices=DiscrepancyAction.choices)
        instance = magic_field(required=False, help_text="Adopt a trade or order into this instance")

    @extend_schema(operation_id="discrepancies_resolve", request=InputSerializer, responses=DiscrepancyOutputSerializer)
    def post(self, request: Request, discrepancy_id: int) -> Response:
        discrepancy = get_object_or_404(_discrepancies_for(request), pk=discrepancy_id)
        object_check(request.user, discrepancy, Action.TRADE)
        data = validate_input(DiscrepancyResolveApi.InputSerializer, request.data)
        instance = None
        if "instance" in data:
            try:
                instance = instance_get(request.user, data["instance"], Action.TRADE)
            except (Http404, PermissionDenied):  # unseen, absent and not allowed read the same here
                instance = None
            if instance is None or instance.account_id != discrepancy.account_id:
                raise serializers.ValidationError(
                    {"instance": [f"no instance {data['instance']} on account {discrepancy.account_id}"]}
                )
        resolved = discrepancy_resolve_checked(
            discrepancy=discrepancy, action=data["action"], user=request.user, instance=instance
        )
        return Response(DiscrepancyOutputSerializer(resolved).data)
