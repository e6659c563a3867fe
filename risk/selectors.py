"""Risk rows a user may see: those of the accounts they may view (the global kill switch is visible to all)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.db.models import Q, QuerySet

from risk.models import AuditLogEntry, BlockedSignal, KillSwitch, RiskLimit
from trading.permissions import accounts_q

User = AuthUser | AnonymousUser  # what request.user holds (AUTH_USER_MODEL is auth.User)


def limit_list_for_user(*, user: User) -> QuerySet[RiskLimit]:
    if not user.is_authenticated:
        return RiskLimit.objects.none()
    return RiskLimit.objects.filter(accounts_q(user, via="account__")).select_related("account", "instance")


def kill_switch_list_for_user(*, user: User) -> QuerySet[KillSwitch]:
    if not user.is_authenticated:
        return KillSwitch.objects.none()
    return KillSwitch.objects.filter(Q(account__isnull=True) | accounts_q(user, via="account__")).select_related(
        "account"
    )


def blocked_list_for_user(*, user: User, filters: dict[str, Any] | None = None) -> QuerySet[BlockedSignal]:
    if not user.is_authenticated:
        return BlockedSignal.objects.none()
    qs = BlockedSignal.objects.filter(accounts_q(user, via="account__"))
    chosen = filters or {}
    for key in ("account", "instance", "rule", "outcome"):
        if chosen.get(key) is not None:
            qs = qs.filter(**{key: chosen[key]})
    return qs.order_by("-created_at", "-id")


def audit_list_for_user(*, user: User) -> QuerySet[AuditLogEntry]:
    """Entries about the user's accounts, and everything the user did (a global kill switch, say)."""
    if not user.is_authenticated:
        return AuditLogEntry.objects.none()
    return AuditLogEntry.objects.filter(accounts_q(user, via="account__") | Q(user=user)).order_by("-time", "-id")
