"""API v1 ``/api/v1/ops/``: notification channels (the URL is write-only), their messages, and health detail."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ops.events import EventKind
from ops.health.checks import overall, readiness
from ops.health.heartbeat import heartbeats
from ops.models import Notification, NotificationChannel
from ops.notify.channels import channel_create, channel_delete, channel_test, channel_update
from trading.api.utils import ApiSerializer, LimitOffsetPagination, paginated_response, validate_input
from trading.selectors.accounts import account_list_for_user


def channel_list_for_user(*, user: Any) -> Any:
    if not user.is_authenticated:
        return NotificationChannel.objects.none()
    return NotificationChannel.objects.filter(owner=user).order_by("name", "id")


class ChannelOutputSerializer(ApiSerializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    account = serializers.IntegerField(source="account_id", allow_null=True)
    service = serializers.CharField()
    url_hint = serializers.CharField(help_text="Scheme only: the URL holds secrets and is never returned")
    events = serializers.ListField(child=serializers.CharField())
    enabled = serializers.BooleanField()
    failing = serializers.BooleanField()
    failures = serializers.IntegerField(help_text="Consecutive failed sends")
    last_error = serializers.CharField()
    last_error_at = serializers.DateTimeField(allow_null=True)
    last_sent_at = serializers.DateTimeField(allow_null=True)
    retry_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class NotificationOutputSerializer(ApiSerializer):
    id = serializers.IntegerField()
    channel = serializers.IntegerField(source="channel_id")
    kind = serializers.CharField()
    severity = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    events = serializers.IntegerField()
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    last_error = serializers.CharField()
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)


def _url_field(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(
        write_only=True,
        max_length=2000,
        style={"input_type": "password"},
        help_text="apprise URL (tgram://…, mailtos://…, json://…); stored encrypted and never returned",
        **kwargs,
    )


def _events_field(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(child=serializers.ChoiceField(choices=EventKind.choices), **kwargs)


def _account(request: Request, account_id: int | None) -> Any:
    if account_id is None:
        return None
    return get_object_or_404(account_list_for_user(user=request.user), pk=account_id)


class ChannelListApi(APIView):
    pagination_class = LimitOffsetPagination

    @extend_schema(operation_id="ops_channels_list", responses=ChannelOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        return paginated_response(
            serializer_class=ChannelOutputSerializer,
            queryset=channel_list_for_user(user=request.user),
            request=request,
            view=self,
        )


class ChannelCreateApi(APIView):
    class InputSerializer(ApiSerializer):
        name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        url = _url_field()
        account = serializers.IntegerField(required=False, allow_null=True, default=None)
        events = _events_field(required=False)
        enabled = serializers.BooleanField(default=True)

    @extend_schema(
        operation_id="ops_channels_create", request=InputSerializer, responses={201: ChannelOutputSerializer}
    )
    def post(self, request: Request) -> Response:
        data = validate_input(ChannelCreateApi.InputSerializer, request.data)
        channel = channel_create(
            owner=request.user,
            name=data["name"],
            url=data["url"],
            account=_account(request, data["account"]),
            events=data.get("events"),
            enabled=data["enabled"],
        )
        return Response(ChannelOutputSerializer(channel).data, status=status.HTTP_201_CREATED)


class ChannelDetailApi(APIView):
    @extend_schema(operation_id="ops_channels_retrieve", responses=ChannelOutputSerializer)
    def get(self, request: Request, channel_id: int) -> Response:
        channel = get_object_or_404(channel_list_for_user(user=request.user), pk=channel_id)
        return Response(ChannelOutputSerializer(channel).data)


class ChannelUpdateApi(APIView):
    class InputSerializer(ApiSerializer):
        name = serializers.CharField(max_length=100, required=False)
        url = _url_field(required=False)
        account = serializers.IntegerField(required=False, allow_null=True)
        events = _events_field(required=False)
        enabled = serializers.BooleanField(required=False)

    @extend_schema(
        operation_id="ops_channels_partial_update", request=InputSerializer, responses=ChannelOutputSerializer
    )
    def patch(self, request: Request, channel_id: int) -> Response:
        channel = get_object_or_404(channel_list_for_user(user=request.user), pk=channel_id)
        data = validate_input(ChannelUpdateApi.InputSerializer, request.data, partial=True)
        if "account" in data:
            data["account"] = _account(request, data["account"])
        channel = channel_update(channel, **data)
        return Response(ChannelOutputSerializer(channel).data)


class ChannelDeleteApi(APIView):
    @extend_schema(operation_id="ops_channels_destroy", responses={204: None})
    def delete(self, request: Request, channel_id: int) -> Response:
        channel = get_object_or_404(channel_list_for_user(user=request.user), pk=channel_id)
        channel_delete(channel)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChannelTestApi(APIView):
    @extend_schema(operation_id="ops_channels_test", request=None, responses=NotificationOutputSerializer)
    def post(self, request: Request, channel_id: int) -> Response:
        """Send a test message now; the answer says whether the service took it, and what it said if not."""
        channel = get_object_or_404(channel_list_for_user(user=request.user), pk=channel_id)
        return Response(NotificationOutputSerializer(channel_test(channel)).data)


class NotificationListApi(APIView):
    pagination_class = LimitOffsetPagination

    @extend_schema(operation_id="ops_notifications_list", responses=NotificationOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        queryset = Notification.objects.filter(channel__in=channel_list_for_user(user=request.user)).order_by("-id")
        return paginated_response(
            serializer_class=NotificationOutputSerializer, queryset=queryset, request=request, view=self
        )


class HealthApi(APIView):
    @extend_schema(operation_id="ops_health", responses=None)
    def get(self, request: Request) -> Response:
        """Readiness checks and every process's last heartbeat (signed-in users)."""
        now = timezone.now()
        results = readiness(now)
        processes = [
            {"process": b.key, "role": b.role, "age_seconds": round(b.age(now), 1), **b.info} for b in heartbeats()
        ]
        return Response({"status": overall(results), "checks": [r.as_dict() for r in results], "processes": processes})


_hide_url = method_decorator(sensitive_post_parameters("url"), name="dispatch")


@_hide_url
class ChannelCollectionRoute(ChannelListApi, ChannelCreateApi):
    """``channels/``: GET lists, POST creates."""


@_hide_url
class ChannelItemRoute(ChannelDetailApi, ChannelUpdateApi, ChannelDeleteApi):
    """``channels/<id>/``: GET, PATCH, DELETE."""
