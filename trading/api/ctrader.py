"""cTrader: which trading accounts an OAuth access token opens (to pick ``broker_account_id`` before adding one)."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from brokers.ctrader import CTraderClient, TokenSet
from brokers.errors import BrokerError
from trading.api.utils import ApiSerializer, validate_input
from trading.exceptions import ApplicationError
from trading.models import BrokerEnvironment
from trading.venues.ctrader.client import ctrader_connection


class TradingAccountSerializer(ApiSerializer):
    broker_account_id = serializers.CharField()
    login = serializers.IntegerField()
    live = serializers.BooleanField()


@method_decorator(sensitive_post_parameters("token"), name="dispatch")
class CTraderTradingAccountsApi(APIView):
    class InputSerializer(ApiSerializer):
        environment = serializers.ChoiceField(choices=BrokerEnvironment.choices, default=BrokerEnvironment.PRACTICE)
        token = serializers.CharField(write_only=True, max_length=512, style={"input_type": "password"})

    @extend_schema(
        operation_id="ctrader_trading_accounts", request=InputSerializer, responses=TradingAccountSerializer(many=True)
    )
    def post(self, request: Request) -> Response:
        data = validate_input(CTraderTradingAccountsApi.InputSerializer, request.data)
        try:
            connection = ctrader_connection(data["environment"])
            client = CTraderClient(connection, account_id=0, tokens=TokenSet(data["token"]))
            accounts = client.list_trading_accounts()
        except ImproperlyConfigured as e:
            raise ApplicationError(str(e)) from None
        except BrokerError as e:
            raise ApplicationError(f"cTrader refused: {e}", {"token": str(e)}) from None
        rows = [{"broker_account_id": str(a), "login": login, "live": live} for a, live, login in accounts]
        return Response(TradingAccountSerializer(rows, many=True).data)
