"""Virtual order mode: the net check (virtual net vs broker net) and the explicit repair of one instrument."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trading.api.utils import ApiSerializer, decimal_string, validate_input
from trading.models import Instrument
from trading.permissions import Action, account_get
from trading.services.virtual.netting import virtual_net_check, virtual_net_repair


class NetLineOutputSerializer(ApiSerializer):
    symbol = serializers.CharField()
    virtual_net = decimal_string()
    broker_net = decimal_string()
    in_flight = decimal_string()
    difference = decimal_string()


class AccountVirtualNetApi(APIView):
    @extend_schema(operation_id="accounts_virtual_net", responses=NetLineOutputSerializer(many=True))
    def get(self, request: Request, account_id: int) -> Response:
        account = account_get(request.user, account_id)
        return Response(NetLineOutputSerializer(virtual_net_check(account), many=True).data)


class AccountVirtualNetRepairApi(APIView):
    class InputSerializer(ApiSerializer):
        instrument = serializers.CharField(max_length=16, help_text="Symbol, e.g. EURUSD")
        confirm = serializers.BooleanField(default=False, help_text="Must be true: the repair sends a market order")

    class OutputSerializer(ApiSerializer):
        client_order_id = serializers.CharField(allow_null=True)
        side = serializers.CharField(allow_null=True)
        units = decimal_string(allow_null=True)

    @extend_schema(
        operation_id="accounts_virtual_net_repair", request=InputSerializer, responses={202: OutputSerializer}
    )
    def post(self, request: Request, account_id: int) -> Response:
        account = account_get(request.user, account_id, Action.TRADE)
        data = validate_input(AccountVirtualNetRepairApi.InputSerializer, request.data)
        instrument = get_object_or_404(Instrument, symbol=data["instrument"])
        order = virtual_net_repair(account=account, instrument=instrument, confirmed=data["confirm"])
        body = {
            "client_order_id": order.client_order_id if order else None,
            "side": order.side if order else None,
            "units": order.units if order else None,
        }
        return Response(self.OutputSerializer(body).data, status=status.HTTP_202_ACCEPTED)
