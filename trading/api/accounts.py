"""Broker accounts: list, create, get, change. Tokens are write-only; only ``token_hint`` is shown."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trading.api.utils import (
    ApiSerializer,
    LimitOffsetPagination,
    decimal_string,
    paginated_response,
    request_user,
    validate_input,
)
from trading.models import AccountRole, Broker, BrokerAccount, BrokerEnvironment
from trading.permissions import Action, account_get, account_role
from trading.selectors.accounts import account_list_for_user
from trading.services.accounts import account_create, account_update
from trading.services.virtual.account import account_set_virtual_orders


class _RoleField(serializers.ChoiceField):
    """The caller's role on the account: the serializer's context names the caller (none: the owner)."""

    def get_attribute(self, instance: BrokerAccount) -> str | None:
        user = self.context.get("user")
        return account_role(user, instance) if user is not None else AccountRole.OWNER


class AccountOutputSerializer(ApiSerializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    broker = serializers.CharField()
    environment = serializers.CharField()
    broker_account_id = serializers.CharField()
    currency = serializers.CharField()
    fifo = serializers.BooleanField()
    virtual_orders = serializers.BooleanField(allow_null=True)
    virtual_mode = serializers.BooleanField()
    enabled = serializers.BooleanField()
    leverage = decimal_string()
    balance = decimal_string()
    equity = decimal_string()
    margin_used = decimal_string()
    unrealized_pl = decimal_string()
    has_token = serializers.BooleanField()
    token_hint = serializers.CharField(help_text="Last characters of the token; shown to the owner only")
    token_expires_at = serializers.DateTimeField(allow_null=True)
    role = _RoleField(choices=AccountRole.choices, help_text="Your role on this account")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def to_representation(self, account: BrokerAccount) -> dict[str, Any]:
        data = super().to_representation(account)
        if data["role"] != AccountRole.OWNER:
            data["token_hint"], data["token_expires_at"] = "", None  # credentials are the owner's alone
        return data


def _token_field(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(
        write_only=True,
        max_length=512,
        trim_whitespace=True,
        style={"input_type": "password"},
        help_text="Broker API token; stored encrypted and never returned",
        **kwargs,
    )


class AccountListApi(APIView):
    pagination_class = LimitOffsetPagination

    @extend_schema(operation_id="accounts_list", responses=AccountOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        return paginated_response(
            serializer_class=AccountOutputSerializer,
            queryset=account_list_for_user(user=request.user),
            request=request,
            view=self,
            context={"user": request.user},
        )


class AccountCreateApi(APIView):
    class InputSerializer(ApiSerializer):
        name = serializers.CharField(max_length=100)
        broker = serializers.ChoiceField(choices=Broker.choices, default=Broker.PAPER)
        environment = serializers.ChoiceField(choices=BrokerEnvironment.choices, default=BrokerEnvironment.PRACTICE)
        broker_account_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
        token = _token_field(required=False, allow_blank=True, default="")
        refresh_token = _token_field(required=False, allow_blank=True, default="")  # OAuth brokers (cTrader)
        currency = serializers.CharField(max_length=3, default="USD")
        fifo = serializers.BooleanField(default=False)
        virtual_orders = serializers.BooleanField(
            allow_null=True, default=None, help_text="Virtual order mode; null = automatic (on for FIFO accounts)"
        )
        leverage = serializers.DecimalField(
            max_digits=8, decimal_places=2, default=Decimal("50"), min_value=Decimal("0.01")
        )
        initial_balance = serializers.DecimalField(
            max_digits=24,
            decimal_places=6,
            default=Decimal("10000"),
            min_value=Decimal("0"),
            max_value=Decimal("1000000000000"),
            help_text="Paper accounts: the opening balance (0..10**12)",
        )
        enabled = serializers.BooleanField(default=True)

    @extend_schema(operation_id="accounts_create", request=InputSerializer, responses={201: AccountOutputSerializer})
    def post(self, request: Request) -> Response:
        data = validate_input(AccountCreateApi.InputSerializer, request.data)
        virtual_orders = data.pop("virtual_orders")
        with transaction.atomic():
            account = account_create(owner=request_user(request), **data)
            account = account_set_virtual_orders(account, virtual_orders)
        return Response(
            AccountOutputSerializer(account, context={"user": request.user}).data, status=status.HTTP_201_CREATED
        )


class AccountDetailApi(APIView):
    @extend_schema(operation_id="accounts_retrieve", responses=AccountOutputSerializer)
    def get(self, request: Request, account_id: int) -> Response:
        account = account_get(request.user, account_id)
        return Response(AccountOutputSerializer(account, context={"user": request.user}).data)


class AccountUpdateApi(APIView):
    class InputSerializer(ApiSerializer):
        name = serializers.CharField(max_length=100, required=False)
        environment = serializers.ChoiceField(choices=BrokerEnvironment.choices, required=False)
        broker_account_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
        token = _token_field(required=False)
        refresh_token = _token_field(required=False)  # OAuth brokers (cTrader)
        currency = serializers.CharField(max_length=3, required=False)
        fifo = serializers.BooleanField(required=False)
        virtual_orders = serializers.BooleanField(allow_null=True, required=False)
        leverage = serializers.DecimalField(max_digits=8, decimal_places=2, required=False)
        enabled = serializers.BooleanField(required=False)

    @extend_schema(operation_id="accounts_partial_update", request=InputSerializer, responses=AccountOutputSerializer)
    def patch(self, request: Request, account_id: int) -> Response:
        account = account_get(request.user, account_id, Action.MANAGE)
        data = validate_input(AccountUpdateApi.InputSerializer, request.data, partial=True)
        with transaction.atomic():
            if "virtual_orders" in data:
                account = account_set_virtual_orders(account, data.pop("virtual_orders"))
            if data:
                account = account_update(account, **data)
        return Response(AccountOutputSerializer(account, context={"user": request.user}).data)


# Django's error reports would otherwise print a form-encoded token with the POST data.
_hide_token = method_decorator(sensitive_post_parameters("token", "refresh_token"), name="dispatch")


@_hide_token
class AccountCollectionRoute(AccountListApi, AccountCreateApi):
    """``accounts/``: GET lists, POST creates."""


@_hide_token
class AccountItemRoute(AccountDetailApi, AccountUpdateApi):
    """``accounts/<id>/``: GET reads, PATCH changes."""
