"""Orders of the accounts a user owns."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from trading.models import Order
from trading.permissions import accounts_q
from trading.selectors.accounts import User
from trading.selectors.filtering import owned_records_filter


def order_list_for_user(*, user: User, filters: dict[str, Any] | None = None) -> QuerySet[Order]:
    """Return the user's orders, newest first, filtered by account, instance, instrument, status, dates."""
    if not user.is_authenticated:
        return Order.objects.none()
    filters = filters or {}
    qs = Order.objects.filter(accounts_q(user, via="account__")).select_related("instrument")
    qs = owned_records_filter(qs, filters, state_field="status", time_field="created_at")
    return qs.order_by("-created_at", "-id")
