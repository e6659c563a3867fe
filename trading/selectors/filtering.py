"""The filters every account-owned record list shares (orders, trades): one place, one meaning."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


def owned_records_filter(qs: QuerySet[M], filters: dict[str, Any], *, state_field: str, time_field: str) -> QuerySet[M]:
    """Filter by account, instance, instrument symbol, life-cycle ``state_field`` and a ``time_field`` range.

    The filter key for the life-cycle field is its own name (``status`` for orders, ``state`` for trades),
    as the API's filter serializers spell it.
    """
    if filters.get("account") is not None:
        qs = qs.filter(account_id=filters["account"])
    if filters.get("instance") is not None:
        qs = qs.filter(instance_id=filters["instance"])
    if filters.get("instrument"):
        qs = qs.filter(instrument__symbol=filters["instrument"])
    state = filters.get(state_field)
    if state:
        qs = qs.filter(**{state_field: state})
    if filters.get("start") is not None:
        qs = qs.filter(**{f"{time_field}__gte": filters["start"]})
    if filters.get("end") is not None:
        qs = qs.filter(**{f"{time_field}__lte": filters["end"]})
    return qs
