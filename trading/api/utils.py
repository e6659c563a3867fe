"""Helpers shared by the API modules: strict input validation and limit/offset pagination."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from django.contrib.auth.models import User
from django.db.models import QuerySet
from rest_framework import exceptions, pagination, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

MAX_ECHO = 80
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1


def id_field(**kwargs: Any) -> serializers.IntegerField:
    """A row id (accounts, orders, trades...): 1..2**63-1, so a filter never overflows the database's bigint."""
    return serializers.IntegerField(min_value=1, max_value=INT64_MAX, **kwargs)


def magic_field(**kwargs: Any) -> serializers.IntegerField:
    """An instance id (magic number): 1..2**31-1, the MetaTrader-style int it is everywhere."""
    return serializers.IntegerField(min_value=1, max_value=INT32_MAX, **kwargs)


class FiniteFloatField(serializers.FloatField):
    """A float that must be finite (``nan`` and ``inf`` compare false with every bound, so they passed them)."""

    def to_internal_value(self, data: Any) -> float:
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            raise serializers.ValidationError(f"{data!r} is not a finite number")
        return value


def request_user(request: Request) -> User:
    """The signed-in caller. Every API view requires one (IsAuthenticated is the default permission), so
    an anonymous request never gets here; the check turns ``request.user`` into the user type."""
    user = request.user
    if not user.is_authenticated:
        raise exceptions.NotAuthenticated()
    return user


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    max_limit = 1000


def _with_value(message: str, value: Any) -> str:
    shown = repr(value)
    if len(shown) > MAX_ECHO:
        shown = shown[:MAX_ECHO] + "…"
    return message if shown in message else f"{message} (was {shown})"


def validate_input(
    serializer_class: type[serializers.Serializer],
    data: Any,
    *,
    partial: bool = False,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Validate ``data`` or raise a ValidationError whose messages name each bad field and its value.

    Values of write-only fields (secrets such as broker tokens) are never echoed back.
    """
    serializer = serializer_class(data=data, partial=partial, context=context or {})
    if serializer.is_valid():
        return dict(serializer.validated_data)
    errors: dict[str, Any] = {}
    for name, messages in serializer.errors.items():
        field = serializer.fields.get(name)
        echo = (
            field is not None
            and not field.write_only
            and hasattr(data, "get")
            and name in data
            and isinstance(messages, list)
        )
        errors[name] = [_with_value(str(m), data.get(name)) for m in messages] if echo else messages
    raise serializers.ValidationError(errors)


def paginated_response(
    *,
    serializer_class: type[serializers.Serializer],
    queryset: QuerySet[Any],
    request: Request,
    view: APIView,
    context: dict[str, Any] | None = None,
) -> Response:
    """Return one page of ``queryset`` as ``{count, next, previous, results}``."""
    paginator = LimitOffsetPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    assert page is not None  # the default limit is always set
    return paginator.get_paginated_response(serializer_class(page, many=True, context=context or {}).data)


def decimal_string(**kwargs: Any) -> serializers.DecimalField:
    """A decimal rendered as an exact string (no padding or rounding)."""
    return serializers.DecimalField(max_digits=None, decimal_places=None, **kwargs)


class ApiSerializer(serializers.Serializer):
    """Base serializer whose OpenAPI component is named after its qualified name.

    ``AccountCreateApi.InputSerializer`` becomes ``AccountCreateApiInput``, so the nested
    Input/Output serializers of different APIs never collide in the schema.
    """

    Meta: ClassVar[type]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "Meta" not in cls.__dict__:
            name = cls.__qualname__.replace(".", "").removesuffix("Serializer")
            cls.Meta = type("Meta", (), {"ref_name": name})
