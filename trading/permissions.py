"""Who may do what on a broker account: the one place every API view, dashboard view and admin asks.

Roles per account: the account's ``owner``, and users it is shared with (``AccountShare``) as ``trader``
or ``viewer``. Each role allows a set of actions:

=========  =====================================================================================
action     covers
=========  =====================================================================================
view       read the account and everything on it: instances, orders, trades, runs, snapshots,
           limits, kill switch, blocked signals, audit entries, discrepancies, backtests
trade      run now, enable/disable, pause/resume, close trades, close all, create and change
           instances, kill switch, limits, market hours, reconcile, resolve differences, repair the
           virtual net, start backtests/optimisations/walk-forwards/drift reports of its instances
manage     the account itself: settings and credentials (token, broker account id, environment),
           sharing, deleting instances
=========  =====================================================================================

``owner`` may do all three, ``trader`` view and trade (never credentials), ``viewer`` only view.

What a user may not even view does not exist for them: lookups answer 404 with the same message as for
an id that does not exist. What they may view but not change answers 403 naming their role.
Superusers are not special here (the admin gives them every row through ``accounts_q(..., everything=True)``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from trading.models import AccountRole, AccountShare, BrokerAccount, StrategyInstance


class Action(StrEnum):
    VIEW = "view"
    TRADE = "trade"
    MANAGE = "manage"


ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    AccountRole.OWNER: frozenset(Action),
    AccountRole.TRADER: frozenset({Action.VIEW, Action.TRADE}),
    AccountRole.VIEWER: frozenset({Action.VIEW}),
}
NOT_FOUND = "Not found."


def _shared_roles(action: Action) -> list[str]:
    return [role for role, actions in ROLE_ACTIONS.items() if action in actions and role != AccountRole.OWNER]


def accounts_q(user: Any, action: Action = Action.VIEW, *, via: str = "", everything: bool = False) -> Q:
    """A filter for rows whose account allows ``action`` to ``user``; ``via`` is the path to the account
    (``"account__"``, ``"instance__account__"``), empty for BrokerAccount itself.

    ``everything``: superusers get every row (the admin); anonymous users get none.
    """
    if user is None or not user.is_authenticated:
        return Q(pk__in=[])
    if everything and user.is_superuser:
        return Q()
    q = Q(**{f"{via}owner": user})
    roles = _shared_roles(action)
    if roles:
        shared = AccountShare.objects.filter(user=user, role__in=roles).values("account_id")
        q |= Q(**{f"{via}pk__in": shared})
    return q


def accounts_for(user: Any, action: Action = Action.VIEW) -> QuerySet[BrokerAccount]:
    """The accounts on which ``user`` may do ``action``."""
    return BrokerAccount.objects.filter(accounts_q(user, action)).order_by("id")


def account_role(user: Any, account: BrokerAccount) -> str | None:
    """``user``'s role on ``account`` (None: the account does not exist for them)."""
    if user is None or not user.is_authenticated:
        return None
    if account.owner_id == user.pk:
        return AccountRole.OWNER
    return AccountShare.objects.filter(account=account, user=user).values_list("role", flat=True).first()


def account_allows(user: Any, account: BrokerAccount, action: Action) -> bool:
    role = account_role(user, account)
    return role is not None and action in ROLE_ACTIONS[role]


def account_check(user: Any, account: BrokerAccount, action: Action) -> None:
    """Raise Http404 when ``user`` may not see ``account``, PermissionDenied when their role forbids ``action``."""
    role = account_role(user, account)
    if role is None:
        raise Http404(NOT_FOUND)
    if action not in ROLE_ACTIONS[role]:
        raise PermissionDenied(f"your role on account {account.pk} is {role}, which does not allow {action}")


def account_get(user: Any, account_id: Any, action: Action = Action.VIEW) -> BrokerAccount:
    """The account ``account_id`` if ``user`` may do ``action`` on it (404 when unseen, 403 when not allowed)."""
    account = BrokerAccount.objects.filter(accounts_q(user, Action.VIEW), pk=_id(account_id)).first()
    if account is None:
        raise Http404(NOT_FOUND)
    account_check(user, account, action)
    return account


def instance_get(
    user: Any, instance_id: Any, action: Action = Action.VIEW, *, queryset: QuerySet[StrategyInstance] | None = None
) -> StrategyInstance:
    """The instance ``instance_id`` if ``user`` may do ``action`` on its account (404 / 403 as account_get)."""
    qs = StrategyInstance.objects.select_related("account", "instrument") if queryset is None else queryset
    instance = qs.filter(accounts_q(user, Action.VIEW, via="account__"), pk=_id(instance_id)).first()
    if instance is None:
        raise Http404(NOT_FOUND)
    account_check(user, instance.account, action)
    return instance


def object_check(user: Any, obj: Any, action: Action) -> None:
    """account_check for any row that has an ``account`` (trades, orders, limits, discrepancies...)."""
    account = obj if isinstance(obj, BrokerAccount) else obj.account
    account_check(user, account, action)


def _id(value: Any) -> int:
    """An id from a URL or form; anything that is not one is simply not found."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Http404(NOT_FOUND) from None
    if not 1 <= number <= 2**63 - 1:
        raise Http404(NOT_FOUND)
    return number
