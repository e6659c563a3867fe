"""Legacy portfolios over the API: import a folder (dry run by default), list imports, a foreign strategy's
settings with what its library shows (UI values, heartbeat), its .set export, and the library in use."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trading.api.utils import ApiSerializer, request_user, validate_input
from trading.exceptions import ApplicationError
from trading.legacy.apply import legacy_import_apply
from trading.legacy.export import legacy_export_set
from trading.legacy.plan import ImportOptions, legacy_import_plan, library_summary
from trading.legacy.source import LegacySourceError, source_from_upload
from trading.legacy.status import legacy_settings_set, legacy_status
from trading.management.commands.legacy_import import parse_assign
from trading.models import BrokerAccount, LegacyImport, StrategyInstance


class LibraryOutputSerializer(ApiSerializer):
    path = serializers.CharField()
    version = serializers.CharField(help_text="getFrameworkVersion, major.minor.bugfix")
    ours = serializers.BooleanField(allow_null=True, help_text="True: framework/c; False: a foreign library")
    error = serializers.CharField(required=False, help_text="Why the library cannot be used")


class FrameworkLibraryApi(APIView):
    """The strategy library every C strategy of this deployment runs in (Python strategies run in the worker)."""

    @extend_schema(operation_id="framework_library_retrieve", responses=LibraryOutputSerializer)
    def get(self, request: Request) -> Response:
        return Response(library_summary())


class LegacyImportApi(APIView):
    """Import an asirikuy-trader folder: ``dry_run`` (the default) only reports; otherwise it is written when
    nothing is left not understood (400 with the report when something is)."""

    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(ApiSerializer):
        files = serializers.ListField(
            child=serializers.FileField(), help_text="atrader.config and its .set presets, or one .zip"
        )
        account = serializers.IntegerField(required=False, help_text="Import into this account of yours")
        skip = serializers.ListField(child=serializers.CharField(), required=False, help_text="file:line or section")
        assign = serializers.ListField(
            child=serializers.CharField(), required=False, help_text="SECTION=NUMBER or SECTION=auto"
        )
        enable = serializers.BooleanField(default=False)
        dry_run = serializers.BooleanField(default=True)

    class OutputSerializer(ApiSerializer):
        plan = serializers.DictField(help_text="What would be created, every line not understood, every line ignored")
        imported = serializers.DictField(allow_null=True, help_text="The import record when it was written")

    @extend_schema(operation_id="legacy_import_create", request=InputSerializer, responses=OutputSerializer)
    def post(self, request: Request) -> Response:
        values = validate_input(self.InputSerializer, request.data)  # multipart lists: every "files" part
        user = request_user(request)
        account = None
        if values.get("account") is not None:
            account = BrokerAccount.objects.filter(pk=values["account"], owner=user).first()
            if account is None:
                raise ApplicationError(f"you have no account {values['account']}")
        try:
            source = source_from_upload([(f.name, f.read()) for f in values["files"]])
            options = ImportOptions(
                owner=user,
                account=account,
                skip=frozenset(values.get("skip", [])),
                assign=parse_assign(values.get("assign", [])),
                enable=values["enable"],
                source="api",
            )
        except (LegacySourceError, ValueError) as e:
            raise ApplicationError(str(e)) from e
        plan = legacy_import_plan(source, options)
        report = plan.as_json()
        if values["dry_run"]:
            return Response({"plan": report, "imported": None})
        record = legacy_import_apply(plan, options)  # LegacyImportInvalid (400, the report in extra) when invalid
        imported = {"id": record.pk, "account": record.account_id, "instances": record.report["instances"]}
        return Response({"plan": report, "imported": imported}, status=status.HTTP_201_CREATED)


class LegacyImportListApi(APIView):
    class OutputSerializer(ApiSerializer):
        id = serializers.IntegerField()
        created_at = serializers.DateTimeField()
        account = serializers.IntegerField(source="account_id", allow_null=True)
        origin = serializers.CharField(source="source", help_text="The folder imported, or 'upload'")
        config_name = serializers.CharField()
        files = serializers.DictField(help_text="{file: SHA-256}")
        report = serializers.DictField()

    @extend_schema(operation_id="legacy_imports_list", responses=OutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        rows = LegacyImport.objects.filter(owner=request_user(request))[:200]
        return Response(self.OutputSerializer(rows, many=True).data)


def _instance(request: Request, instance_id: int) -> StrategyInstance:
    return get_object_or_404(
        StrategyInstance.objects.select_related("instrument", "account").filter(account__owner=request_user(request)),
        pk=instance_id,
    )


class InstanceLegacyApi(APIView):
    """A foreign strategy's settings and what its library last wrote: UI values (<id>.ui) and heartbeat."""

    parser_classes = [JSONParser]

    class OutputSerializer(ApiSerializer):
        strategy_timeframe = serializers.IntegerField()
        rates_requirements = serializers.ListField(child=serializers.JSONField())
        ref_broker_name = serializers.CharField()
        optimization_space = serializers.DictField()
        set_file_name = serializers.CharField()
        ui_values = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))
        heartbeat = serializers.CharField()
        heartbeat_at = serializers.DateTimeField(allow_null=True)
        files_read_at = serializers.DateTimeField(allow_null=True)
        library_version = serializers.CharField(help_text="getFrameworkVersion at the last run")

    class InputSerializer(ApiSerializer):
        strategy_timeframe = serializers.IntegerField(help_text="TIMEFRAME (STRATEGY_TIMEFRAME), minutes")
        rates_requirements = serializers.JSONField(help_text="Up to 10 slots, null = unused (see the model)")
        ref_broker_name = serializers.CharField(required=False, help_text="A row of broker-tz.csv; default UTC")
        optimization_space = serializers.JSONField(required=False)

    @extend_schema(operation_id="instance_legacy_retrieve", responses=OutputSerializer)
    def get(self, request: Request, instance_id: int) -> Response:
        instance = _instance(request, instance_id)
        found = legacy_status(instance.pk)
        if found is None:
            raise ApplicationError(f"instance {instance_id} runs a strategy of our catalog; it has no legacy settings")
        return Response(self.OutputSerializer(found).data)

    @extend_schema(operation_id="instance_legacy_update", request=InputSerializer, responses=OutputSerializer)
    def put(self, request: Request, instance_id: int) -> Response:
        """Set a foreign strategy's TIMEFRAME and rates requirements (validated as an import validates them)."""
        instance = _instance(request, instance_id)
        values = validate_input(self.InputSerializer, request.data)
        legacy_settings_set(instance=instance, **values)
        found = legacy_status(instance.pk)
        assert found is not None
        return Response(self.OutputSerializer(found).data)


class InstanceSetFileApi(APIView):
    """The instance as a MetaTrader .set preset (its imported preset with today's values)."""

    @extend_schema(operation_id="instance_set_file_retrieve", responses={(200, "application/octet-stream"): bytes})
    def get(self, request: Request, instance_id: int) -> HttpResponse:
        name, data = legacy_export_set(_instance(request, instance_id))
        response = HttpResponse(data, content_type="application/octet-stream")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


urlpatterns: list[Any] = [
    path("framework/library/", FrameworkLibraryApi.as_view(), name="framework-library"),
    path("legacy/imports/", LegacyImportListApi.as_view(), name="legacy-imports"),
    path("legacy/import/", LegacyImportApi.as_view(), name="legacy-import"),
    path("instances/<int:instance_id>/legacy/", InstanceLegacyApi.as_view(), name="instance-legacy"),
    path("instances/<int:instance_id>/set-file/", InstanceSetFileApi.as_view(), name="instance-set-file"),
]
