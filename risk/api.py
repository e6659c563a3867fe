"""Risk API (``/api/v1/risk/``): guard rails, kill switches, market hours, blocked signals, audit, manual actions."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from risk.models import BlockOutcome, BlockRule, ClosedMarketAction, DrawdownAction
from risk.selectors import audit_list_for_user, blocked_list_for_user, kill_switch_list_for_user, limit_list_for_user
from risk.services.kill_switch import kill_switch_engage, kill_switch_release
from risk.services.manual import instance_close_all, instance_pause, instance_resume
from risk.services.market_hours import market_policy
from risk.services.settings import LIMIT_FIELDS, limit_delete, limit_reset_peak, limit_set, market_hours_set
from trading.api.utils import (
    ApiSerializer,
    LimitOffsetPagination,
    decimal_string,
    id_field,
    magic_field,
    paginated_response,
    validate_input,
)
from trading.exceptions import ApplicationError
from trading.models import BrokerAccount
from trading.permissions import Action, account_get, instance_get, object_check


class LimitOutputSerializer(ApiSerializer):
    id = serializers.IntegerField()
    account = serializers.IntegerField(source="account_id")
    instance = serializers.IntegerField(source="instance_id", allow_null=True)
    max_drawdown_pct = decimal_string(allow_null=True)
    drawdown_action = serializers.CharField()
    daily_loss_limit = decimal_string(allow_null=True)
    max_open_trades = serializers.IntegerField(allow_null=True)
    max_order_equity_ratio = decimal_string(allow_null=True)
    max_currency_exposure_ratio = decimal_string(allow_null=True)
    max_spread_points = serializers.IntegerField(allow_null=True)
    peak_equity = decimal_string(allow_null=True)
    peak_since = serializers.DateTimeField(allow_null=True)


class _LimitFields(ApiSerializer):
    max_drawdown_pct = serializers.DecimalField(
        max_digits=6, decimal_places=3, min_value=0, allow_null=True, required=False
    )
    drawdown_action = serializers.ChoiceField(choices=DrawdownAction.choices, required=False)
    daily_loss_limit = serializers.DecimalField(
        max_digits=24, decimal_places=6, min_value=0, allow_null=True, required=False
    )
    max_open_trades = serializers.IntegerField(min_value=0, max_value=1_000_000, allow_null=True, required=False)
    max_order_equity_ratio = serializers.DecimalField(
        max_digits=12, decimal_places=4, min_value=0, allow_null=True, required=False
    )
    max_currency_exposure_ratio = serializers.DecimalField(
        max_digits=12, decimal_places=4, min_value=0, allow_null=True, required=False
    )
    max_spread_points = serializers.IntegerField(min_value=0, max_value=1_000_000, allow_null=True, required=False)


class LimitListApi(APIView):
    @extend_schema(operation_id="risk_limits_list", responses=LimitOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(LimitOutputSerializer(limit_list_for_user(user=request.user), many=True).data)


class LimitSetApi(APIView):
    class InputSerializer(_LimitFields):
        account = id_field()
        instance = magic_field(required=False, allow_null=True, help_text="Empty: the whole account")

    @extend_schema(operation_id="risk_limits_set", request=InputSerializer, responses=LimitOutputSerializer)
    def post(self, request: Request) -> Response:
        """Create or change the limits of an account or of one of its instances."""
        data = validate_input(LimitSetApi.InputSerializer, request.data)
        account = account_get(request.user, data.pop("account"), Action.TRADE)
        instance_id = data.pop("instance", None)
        instance = None
        if instance_id is not None:
            instance = instance_get(request.user, instance_id, Action.TRADE)
            if instance.account_id != account.pk:
                raise ValidationError({"instance": [f"instance {instance_id} is not on account {account.pk}"]})
        limit = limit_set(account=account, instance=instance, user=request.user, source="api", **data)
        return Response(LimitOutputSerializer(limit).data)


class LimitDetailApi(APIView):
    @extend_schema(operation_id="risk_limits_retrieve", responses=LimitOutputSerializer)
    def get(self, request: Request, limit_id: int) -> Response:
        return Response(
            LimitOutputSerializer(get_object_or_404(limit_list_for_user(user=request.user), pk=limit_id)).data
        )


class LimitUpdateApi(APIView):
    class InputSerializer(_LimitFields):
        pass

    @extend_schema(operation_id="risk_limits_partial_update", request=InputSerializer, responses=LimitOutputSerializer)
    def patch(self, request: Request, limit_id: int) -> Response:
        limit = get_object_or_404(limit_list_for_user(user=request.user), pk=limit_id)
        object_check(request.user, limit, Action.TRADE)
        data = validate_input(LimitUpdateApi.InputSerializer, request.data, partial=True)
        limit = limit_set(
            account=limit.account,
            instance=limit.instance,
            user=request.user,
            source="api",
            **{k: v for k, v in data.items() if k in LIMIT_FIELDS},
        )
        return Response(LimitOutputSerializer(limit).data)


class LimitDeleteApi(APIView):
    @extend_schema(operation_id="risk_limits_destroy", responses={204: None})
    def delete(self, request: Request, limit_id: int) -> Response:
        limit = get_object_or_404(limit_list_for_user(user=request.user), pk=limit_id)
        object_check(request.user, limit, Action.TRADE)
        limit_delete(limit=limit, user=request.user, source="api")
        return Response(status=status.HTTP_204_NO_CONTENT)


class LimitResetPeakApi(APIView):
    @extend_schema(operation_id="risk_limits_reset_peak", request=None, responses=LimitOutputSerializer)
    def post(self, request: Request, limit_id: int) -> Response:
        limit = get_object_or_404(limit_list_for_user(user=request.user), pk=limit_id)
        object_check(request.user, limit, Action.TRADE)
        return Response(LimitOutputSerializer(limit_reset_peak(limit=limit, user=request.user, source="api")).data)


class KillSwitchOutputSerializer(ApiSerializer):
    account = serializers.IntegerField(source="account_id", allow_null=True, help_text="null: the global switch")
    engaged = serializers.BooleanField()
    flatten = serializers.BooleanField()
    reason = serializers.CharField()
    changed_at = serializers.DateTimeField(allow_null=True)


class KillSwitchListApi(APIView):
    @extend_schema(operation_id="risk_kill_switches_list", responses=KillSwitchOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(KillSwitchOutputSerializer(kill_switch_list_for_user(user=request.user), many=True).data)


def _switch_account(request: Request, account_id: int | None) -> BrokerAccount | None:
    if account_id is None:
        if not request.user.is_superuser:
            raise ApplicationError("only a superuser may use the global kill switch", {"account": None})
        return None
    return account_get(request.user, account_id, Action.TRADE)


class KillSwitchEngageApi(APIView):
    class InputSerializer(ApiSerializer):
        account = id_field(allow_null=True, help_text="null: every account (superusers only)")
        flatten = serializers.BooleanField(default=False, help_text="Also close every trade and cancel entries")
        reason = serializers.CharField(max_length=200, required=False, default="")

    @extend_schema(
        operation_id="risk_kill_switch_engage", request=InputSerializer, responses=KillSwitchOutputSerializer
    )
    def post(self, request: Request) -> Response:
        data = validate_input(KillSwitchEngageApi.InputSerializer, request.data)
        switch = kill_switch_engage(
            account=_switch_account(request, data["account"]),
            user=request.user,
            source="api",
            flatten=data["flatten"],
            reason=data["reason"],
        )
        return Response(KillSwitchOutputSerializer(switch).data)


class KillSwitchReleaseApi(APIView):
    class InputSerializer(ApiSerializer):
        account = id_field(allow_null=True)

    @extend_schema(
        operation_id="risk_kill_switch_release", request=InputSerializer, responses=KillSwitchOutputSerializer
    )
    def post(self, request: Request) -> Response:
        data = validate_input(KillSwitchReleaseApi.InputSerializer, request.data)
        switch = kill_switch_release(account=_switch_account(request, data["account"]), user=request.user, source="api")
        return Response(KillSwitchOutputSerializer(switch).data)


class MarketHoursOutputSerializer(ApiSerializer):
    account = serializers.IntegerField()
    when_closed = serializers.CharField()
    oanda_daily_break = serializers.BooleanField()


class MarketHoursApi(APIView):
    class InputSerializer(ApiSerializer):
        when_closed = serializers.ChoiceField(choices=ClosedMarketAction.choices, required=False)
        oanda_daily_break = serializers.BooleanField(required=False)

    @extend_schema(operation_id="risk_market_hours_retrieve", responses=MarketHoursOutputSerializer)
    def get(self, request: Request, account_id: int) -> Response:
        account = account_get(request.user, account_id)
        policy = market_policy(account)
        return Response(
            MarketHoursOutputSerializer(
                {
                    "account": account.pk,
                    "when_closed": policy.when_closed,
                    "oanda_daily_break": policy.oanda_daily_break,
                }
            ).data
        )

    @extend_schema(
        operation_id="risk_market_hours_update", request=InputSerializer, responses=MarketHoursOutputSerializer
    )
    def put(self, request: Request, account_id: int) -> Response:
        account = account_get(request.user, account_id, Action.TRADE)
        data = validate_input(MarketHoursApi.InputSerializer, request.data)
        policy = market_hours_set(account=account, user=request.user, source="api", **data)
        return Response(
            MarketHoursOutputSerializer(
                {
                    "account": account.pk,
                    "when_closed": policy.when_closed,
                    "oanda_daily_break": policy.oanda_daily_break,
                }
            ).data
        )


class BlockedOutputSerializer(ApiSerializer):
    id = serializers.IntegerField()
    account = serializers.IntegerField(source="account_id")
    instance = serializers.IntegerField(source="instance_id", allow_null=True)
    execution = serializers.IntegerField(source="execution_id", allow_null=True)
    order = serializers.IntegerField(source="order_id", allow_null=True)
    rule = serializers.CharField()
    outcome = serializers.CharField()
    intent = serializers.DictField()
    values = serializers.DictField()
    created_at = serializers.DateTimeField()
    released_at = serializers.DateTimeField(allow_null=True)


class BlockedListApi(APIView):
    pagination_class = LimitOffsetPagination

    class FilterSerializer(ApiSerializer):
        account = id_field(required=False)
        instance = magic_field(required=False)
        rule = serializers.ChoiceField(choices=BlockRule.choices, required=False)
        outcome = serializers.ChoiceField(choices=BlockOutcome.choices, required=False)

    @extend_schema(
        operation_id="risk_blocked_list", parameters=[FilterSerializer], responses=BlockedOutputSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        filters = validate_input(BlockedListApi.FilterSerializer, request.query_params)
        return paginated_response(
            serializer_class=BlockedOutputSerializer,
            request=request,
            view=self,
            queryset=blocked_list_for_user(user=request.user, filters=filters),
        )


class AuditOutputSerializer(ApiSerializer):
    id = serializers.IntegerField()
    time = serializers.DateTimeField()
    user = serializers.CharField(source="username", help_text="Empty: the platform itself")
    # DRF's serializer metaclass moves declared fields out of the class, so this never replaces Field.source;
    # the stub cannot express that.
    source = serializers.CharField()  # type: ignore[assignment]
    action = serializers.CharField()
    account = serializers.IntegerField(source="account_id", allow_null=True)
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    object_repr = serializers.CharField()
    details = serializers.DictField()


class AuditListApi(APIView):
    pagination_class = LimitOffsetPagination

    @extend_schema(operation_id="risk_audit_list", responses=AuditOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        return paginated_response(
            serializer_class=AuditOutputSerializer,
            request=request,
            view=self,
            queryset=audit_list_for_user(user=request.user),
        )


class CloseAllOutputSerializer(ApiSerializer):
    reason = serializers.CharField()
    trades_closed = serializers.DictField(child=serializers.CharField(), help_text="trade id → close order id")
    unsent_entries_cancelled = serializers.ListField(child=serializers.IntegerField())
    pending_entries_cancelled = serializers.DictField(
        child=serializers.CharField(), help_text="order id → cancel order id"
    )


class InstanceStateOutputSerializer(ApiSerializer):
    instance = serializers.IntegerField()
    enabled = serializers.BooleanField()


class InstanceCloseAllApi(APIView):
    @extend_schema(operation_id="risk_instance_close_all", request=None, responses={202: CloseAllOutputSerializer})
    def post(self, request: Request, instance_id: int) -> Response:
        instance = instance_get(request.user, instance_id, Action.TRADE)
        done = instance_close_all(instance=instance, user=request.user, source="api")
        return Response(CloseAllOutputSerializer(done).data, status=status.HTTP_202_ACCEPTED)


class InstancePauseApi(APIView):
    @extend_schema(operation_id="risk_instance_pause", request=None, responses=InstanceStateOutputSerializer)
    def post(self, request: Request, instance_id: int) -> Response:
        instance = instance_get(request.user, instance_id, Action.TRADE)
        instance = instance_pause(instance=instance, user=request.user, source="api")
        return Response({"instance": instance.pk, "enabled": instance.enabled})


class InstanceResumeApi(APIView):
    @extend_schema(operation_id="risk_instance_resume", request=None, responses=InstanceStateOutputSerializer)
    def post(self, request: Request, instance_id: int) -> Response:
        instance = instance_get(request.user, instance_id, Action.TRADE)
        instance = instance_resume(instance=instance, user=request.user, source="api")
        return Response({"instance": instance.pk, "enabled": instance.enabled})


class LimitCollectionRoute(LimitListApi, LimitSetApi):
    """``limits/``: GET lists, POST creates or changes (one row per account or instance)."""


class LimitItemRoute(LimitDetailApi, LimitUpdateApi, LimitDeleteApi):
    """``limits/<limit_id>/``: GET reads, PATCH changes, DELETE removes."""
