"""Accounts a user owns, and the equity history behind the dashboard chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.db.models import QuerySet

from trading.models import AccountSnapshot, BrokerAccount
from trading.permissions import Action, accounts_q

User = AuthUser | AnonymousUser  # what request.user holds (AUTH_USER_MODEL is auth.User)


def account_list_for_user(*, user: User, action: Action = Action.VIEW) -> QuerySet[BrokerAccount]:
    """Return the broker accounts on which ``user`` may do ``action`` (owned or shared; none when anonymous)."""
    if not user.is_authenticated:
        return BrokerAccount.objects.none()
    return BrokerAccount.objects.filter(accounts_q(user, action)).order_by("id")


@dataclass(frozen=True)
class EquityPoint:
    time: datetime
    balance: Decimal
    equity: Decimal


def equity_series(*, account: BrokerAccount, limit: int = 500) -> list[EquityPoint]:
    """Return the last ``limit`` account snapshots, oldest first."""
    rows = (
        AccountSnapshot.objects.filter(account=account)
        .order_by("-time")
        .values_list("time", "balance", "equity")[:limit]
    )
    return [EquityPoint(time=t, balance=b, equity=e) for t, b, e in reversed(list(rows))]
