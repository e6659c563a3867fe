"""Bar data management: file import (staff) and coverage with gaps."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trading.api.parsers import StrictFormParser, StrictMultiPartParser
from trading.api.utils import ApiSerializer, validate_input
from trading.bars.coverage import bars_coverage
from trading.bars.import_errors import READ_ERRORS, import_error_message
from trading.bars.importing import bars_import, upload_source
from trading.bars.validation import BarImportError
from trading.exceptions import ApplicationError
from trading.models import Instrument, Timeframe

MAX_ERRORS_SHOWN = 1000


class BarImportApi(APIView):
    """Import one file of bars; bars are shared by every user, so only staff may write them."""

    permission_classes = [IsAdminUser]
    parser_classes = [StrictMultiPartParser, StrictFormParser]

    class InputSerializer(ApiSerializer):
        file = serializers.FileField()
        instrument = serializers.SlugRelatedField(slug_field="symbol", queryset=Instrument.objects.all())
        timeframe = serializers.ChoiceField(choices=Timeframe.values, required=False, allow_null=True)
        format = serializers.ChoiceField(
            choices=["generic", "metatrader", "histdata", "dukascopy", "oanda"],
            required=False,
            allow_null=True,
            help_text="Detected when omitted",
        )
        on_error = serializers.ChoiceField(choices=["stop", "skip"], default="stop")
        source_tz = serializers.CharField(required=False, help_text="Broker clock of MetaTrader exports, e.g. UTC")

    class OutputSerializer(ApiSerializer):
        file = serializers.CharField()
        format = serializers.CharField()
        instrument = serializers.CharField()
        timeframe = serializers.IntegerField()
        rows_read = serializers.IntegerField()
        inserted = serializers.IntegerField()
        updated = serializers.IntegerField()
        unchanged = serializers.IntegerField()
        skipped = serializers.IntegerField()
        dropped = serializers.IntegerField()
        # DRF's serializer metaclass moves declared fields out of the class, so this never replaces
        # Serializer.errors; the stub cannot express that.
        errors = serializers.ListField(child=serializers.DictField())  # type: ignore[assignment]

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request: Request) -> Response:
        data = validate_input(self.InputSerializer, request.data)
        upload = data["file"]
        options: dict[str, Any] = {"source_tz": data["source_tz"]} if data.get("source_tz") else {}
        try:
            report = bars_import(
                source=upload_source(upload),
                name=upload.name,  # error reports name the uploaded file, not its temporary copy
                fmt=data.get("format"),
                instrument=data["instrument"],
                timeframe=data.get("timeframe"),
                on_error=data["on_error"],
                **options,
            )
        except BarImportError:
            raise  # an ApplicationError already: 400 with the rows at fault
        except READ_ERRORS as e:
            raise ApplicationError(import_error_message(e, upload.name), {"field": "file"}) from e
        body = {**report.__dict__, "errors": [e.__dict__ for e in report.errors[:MAX_ERRORS_SHOWN]]}
        return Response(self.OutputSerializer(body).data, status=status.HTTP_201_CREATED)


class BarCoverageApi(APIView):
    class FilterSerializer(ApiSerializer):
        instrument = serializers.SlugRelatedField(
            slug_field="symbol", queryset=Instrument.objects.all(), required=False
        )
        timeframe = serializers.ChoiceField(choices=Timeframe.values, required=False)

    class GapSerializer(ApiSerializer):
        start = serializers.DateTimeField()
        end = serializers.DateTimeField()
        missing_bars = serializers.IntegerField()

    class OutputSerializer(ApiSerializer):
        symbol = serializers.CharField()
        timeframe = serializers.IntegerField()
        first = serializers.DateTimeField()
        last = serializers.DateTimeField()
        count = serializers.IntegerField()
        gaps = serializers.ListField(child=serializers.DictField())

    @extend_schema(parameters=[FilterSerializer], responses={200: OutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        filters = validate_input(self.FilterSerializer, request.query_params)
        instrument = filters.get("instrument")
        rows = bars_coverage(instrument_id=instrument.pk if instrument else None, timeframe=filters.get("timeframe"))
        return Response(
            [
                {
                    "symbol": r.symbol,
                    "timeframe": r.timeframe,
                    "first": r.first,
                    "last": r.last,
                    "count": r.count,
                    "gaps": [self.GapSerializer(g).data for g in r.gaps],
                }
                for r in rows
            ]
        )
