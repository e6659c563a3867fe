"""Sharing an account: the owner lists, adds (or changes) and removes the users who may trade or view it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trading.api.utils import ApiSerializer, validate_input
from trading.models import AccountRole
from trading.models.sharing import SHARED_ROLES
from trading.permissions import Action, account_get
from trading.services.sharing import account_share, account_shares, account_unshare


class ShareOutputSerializer(ApiSerializer):
    username = serializers.CharField()
    role = serializers.ChoiceField(choices=AccountRole.choices)
    created_at = serializers.DateTimeField()


class AccountShareListApi(APIView):
    @extend_schema(operation_id="accounts_shares_list", responses=ShareOutputSerializer(many=True))
    def get(self, request: Request, account_id: int) -> Response:
        account = account_get(request.user, account_id, Action.MANAGE)
        return Response(ShareOutputSerializer(account_shares(account), many=True).data)


class AccountShareCreateApi(APIView):
    class InputSerializer(ApiSerializer):
        username = serializers.CharField(max_length=150)
        role = serializers.ChoiceField(
            choices=SHARED_ROLES, help_text="trader: run, pause, close, modify; viewer: read"
        )

    @extend_schema(
        operation_id="accounts_shares_create", request=InputSerializer, responses={201: ShareOutputSerializer}
    )
    def post(self, request: Request, account_id: int) -> Response:
        account = account_get(request.user, account_id, Action.MANAGE)
        data = validate_input(AccountShareCreateApi.InputSerializer, request.data)
        share = account_share(
            account=account, username=data["username"], role=data["role"], by=request.user, source="api"
        )
        body = {"username": share.user.get_username(), "role": share.role, "created_at": share.created_at}
        return Response(ShareOutputSerializer(body).data, status=status.HTTP_201_CREATED)


class AccountShareDeleteApi(APIView):
    @extend_schema(operation_id="accounts_shares_destroy", responses={204: None})
    def delete(self, request: Request, account_id: int, username: str) -> Response:
        account = account_get(request.user, account_id, Action.MANAGE)
        account_unshare(account=account, username=username, by=request.user, source="api")
        return Response(status=status.HTTP_204_NO_CONTENT)


class AccountShareCollectionRoute(AccountShareListApi, AccountShareCreateApi):
    """``accounts/<id>/shares/``: GET lists, POST shares (owner only)."""
