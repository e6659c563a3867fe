"""Trades of the accounts a user owns, and P/L totals over any trade query."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum

from trading.models import Trade, TradeState
from trading.permissions import Action, accounts_q
from trading.selectors.accounts import User
from trading.selectors.filtering import owned_records_filter


def trade_filter(qs: QuerySet[Trade], filters: dict[str, Any]) -> QuerySet[Trade]:
    """Apply the trade filters (account, instance, instrument, state, open-time range) to ``qs``."""
    return owned_records_filter(qs, filters, state_field="state", time_field="open_time")


def trade_list(*, user: User, filters: dict[str, Any] | None = None, action: Action = Action.VIEW) -> QuerySet[Trade]:
    """Return the trades of accounts where ``user`` may do ``action``, newest first."""
    if not user.is_authenticated:
        return Trade.objects.none()
    qs = Trade.objects.filter(accounts_q(user, action, via="account__")).select_related("instrument", "account")
    return trade_filter(qs, filters or {}).order_by("-open_time", "-id")


def trade_list_open(*, user: User, action: Action = Action.VIEW) -> QuerySet[Trade]:
    """Return the open trades of accounts where ``user`` may do ``action``."""
    return trade_list(user=user, filters={"state": TradeState.OPEN}, action=action).select_related("instance")


@dataclass(frozen=True)
class PlTotals:
    currency: str
    trades: int
    realized_pl: Decimal
    unrealized_pl: Decimal
    financing: Decimal
    commission: Decimal


def trade_totals(qs: QuerySet[Trade]) -> list[PlTotals]:
    """Sum P/L of ``qs`` per account currency (amounts in different currencies are never added)."""
    rows = (
        qs.order_by()
        .values("account__currency")
        .annotate(
            n=Count("id"),
            realized=Sum("realized_pl"),
            unrealized=Sum("unrealized_pl"),
            financing_sum=Sum("financing"),
            commission_sum=Sum("commission"),
        )
        .order_by("account__currency")
    )
    zero = Decimal("0")
    return [
        PlTotals(
            currency=r["account__currency"],
            trades=r["n"],
            realized_pl=r["realized"] or zero,
            unrealized_pl=r["unrealized"] or zero,
            financing=r["financing_sum"] or zero,
            commission=r["commission_sum"] or zero,
        )
        for r in rows
    ]
