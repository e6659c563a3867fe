"""Orders of the accounts a user owns."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from trading.models import Order
from trading.selectors.accounts import User


def order_list_for_user(*, user: User, filters: dict[str, Any] | None = None) -> QuerySet[Order]:
    """Return the user's orders, newest first, filtered by account, instance, instrument, status, dates."""
    if not user.is_authenticated:
        return Order.objects.none()
    filters = filters or {}
    qs = Order.objects.filter(account__owner=user).select_related("instrument")
    if filters.get("account") is not None:
        qs = qs.filter(account_id=filters["account"])
    if filters.get("instance") is not None:
        qs = qs.filter(instance_id=filters["instance"])
    if filters.get("instrument"):
        qs = qs.filter(instrument__symbol=filters["instrument"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("start") is not None:
        qs = qs.filter(created_at__gte=filters["start"])
    if filters.get("end") is not None:
        qs = qs.filter(created_at__lte=filters["end"])
    return qs.order_by("-created_at", "-id")
