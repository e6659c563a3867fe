"""Strategy runs of the instances a user owns."""

from __future__ import annotations

from typing import Any

from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber

from trading.models import Execution
from trading.permissions import accounts_q
from trading.selectors.accounts import User


def execution_list_for_user(*, user: User, filters: dict[str, Any] | None = None) -> QuerySet[Execution]:
    """Return the user's executions, newest bar first."""
    if not user.is_authenticated:
        return Execution.objects.none()
    filters = filters or {}
    qs = Execution.objects.filter(accounts_q(user, via="instance__account__")).select_related("instance")
    if filters.get("instance") is not None:
        qs = qs.filter(instance_id=filters["instance"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("start") is not None:
        qs = qs.filter(bar_time__gte=filters["start"])
    if filters.get("end") is not None:
        qs = qs.filter(bar_time__lte=filters["end"])
    return qs.order_by("-bar_time", "-id")


def execution_latest_per_instance(qs: QuerySet[Execution], *, per_instance: int) -> QuerySet[Execution]:
    """Keep only the newest ``per_instance`` executions of each instance in ``qs``."""
    ranked = qs.annotate(
        rank=Window(RowNumber(), partition_by=[F("instance_id")], order_by=[F("bar_time").desc(), F("id").desc()])
    )
    return ranked.filter(rank__lte=per_instance)
