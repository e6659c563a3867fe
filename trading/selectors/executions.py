"""Strategy runs of the instances a user owns."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from trading.models import Execution
from trading.selectors.accounts import User


def execution_list_for_user(*, user: User, filters: dict[str, Any] | None = None) -> QuerySet[Execution]:
    """Return the user's executions, newest bar first."""
    if not user.is_authenticated:
        return Execution.objects.none()
    filters = filters or {}
    qs = Execution.objects.filter(instance__account__owner=user).select_related("instance")
    if filters.get("instance") is not None:
        qs = qs.filter(instance_id=filters["instance"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("start") is not None:
        qs = qs.filter(bar_time__gte=filters["start"])
    if filters.get("end") is not None:
        qs = qs.filter(bar_time__lte=filters["end"])
    return qs.order_by("-bar_time", "-id")
