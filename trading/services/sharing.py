"""Sharing an account with another user as trader or viewer, and taking it back (audited)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from trading.models import AccountRole, AccountShare, BrokerAccount
from trading.models.sharing import SHARED_ROLES

_ROLES = [value for value, _ in SHARED_ROLES]


def _user_named(username: str) -> Any:
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise ValidationError({"username": [f"no active user {username!r}"]})
    return user


def account_share_check(*, account: BrokerAccount, username: str, role: str) -> Any:
    """The user to share ``account`` with, or a ValidationError naming the field at fault."""
    if role not in _ROLES:
        raise ValidationError({"role": [f"{role!r} is not a role to share with; use one of {', '.join(_ROLES)}"]})
    user = _user_named(username)
    if user.pk == account.owner_id:
        raise ValidationError({"username": [f"{username!r} owns this account already"]})
    return user


@transaction.atomic
def account_share(*, account: BrokerAccount, username: str, role: str, by: Any, source: str) -> AccountShare:
    """Give ``username`` ``role`` on ``account`` (changing the role of an existing share)."""
    from risk.services.audit import audit_record

    user = account_share_check(account=account, username=username, role=role)
    share, _ = AccountShare.objects.update_or_create(
        account=account, user=user, defaults={"role": role, "created_by": by}
    )
    audit_record(user=by, action="account_share", obj=account, source=source, details={"user": username, "role": role})
    return share


@transaction.atomic
def account_unshare(*, account: BrokerAccount, username: str, by: Any, source: str) -> None:
    """Stop sharing ``account`` with ``username`` (a share that does not exist is a field error)."""
    from risk.services.audit import audit_record

    deleted, _ = AccountShare.objects.filter(account=account, user__username=username).delete()
    if not deleted:
        raise ValidationError({"username": [f"account {account.pk} is not shared with {username!r}"]})
    audit_record(user=by, action="account_unshare", obj=account, source=source, details={"user": username})


def account_shares(account: BrokerAccount) -> list[dict[str, Any]]:
    """Who has which role on ``account``, the owner first."""
    rows = [{"username": account.owner.get_username(), "role": AccountRole.OWNER, "created_at": account.created_at}]
    for share in account.shares.select_related("user").order_by("user__username"):
        rows.append({"username": share.user.get_username(), "role": share.role, "created_at": share.created_at})
    return rows
