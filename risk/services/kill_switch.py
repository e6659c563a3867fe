"""Kill switches: global or per account. Engaged, no opening order is written or sent; exits still go.

``flatten`` also closes every open trade, cancels every pending entry order at the broker and every entry
order not yet sent, through the same order path as any manual close, so the history stays complete.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from risk.models import AuditAction, KillSwitch
from risk.services.audit import audit_record
from trading.models import BrokerAccount

User = AuthUser | AnonymousUser  # what request.user holds (AUTH_USER_MODEL is auth.User)


def kill_switch_engaged(account_id: int) -> bool:
    """True when the global switch or the account's switch is engaged."""
    return KillSwitch.objects.filter(Q(account__isnull=True) | Q(account_id=account_id), engaged=True).exists()


def _switch(account: BrokerAccount | None) -> KillSwitch:
    switch, _ = KillSwitch.objects.select_for_update().get_or_create(account=account)
    return switch


@transaction.atomic
def kill_switch_engage(
    *,
    account: BrokerAccount | None,
    user: User | None,
    source: str,
    flatten: bool = False,
    reason: str = "",
    now: datetime | None = None,
) -> KillSwitch:
    """Engage the account's switch (``account`` None: the global one); optionally flatten what it covers."""
    now = now or timezone.now()
    switch = _switch(account)
    switch.engaged, switch.flatten, switch.reason = True, flatten, reason[:200]
    switch.changed_by = user if user is not None and user.is_authenticated else None
    switch.changed_at = now
    switch.save()
    details: dict[str, Any] = {"flatten": flatten, "reason": reason, "scope": account.pk if account else "global"}
    if flatten:
        from risk.services.manual import account_flatten  # manual → dispatch → this module's gate

        accounts = [account] if account is not None else list(BrokerAccount.objects.order_by("pk"))
        details["flattened"] = {
            str(a.pk): account_flatten(account=a, user=user, source=source, reason="kill switch flatten", now=now)
            for a in accounts
        }
    audit_record(
        user=user,
        action=AuditAction.KILL_SWITCH_ENGAGE,
        obj=switch,
        source=source,
        details=details,
        account_id=account.pk if account else None,
        now=now,
    )
    return switch


@transaction.atomic
def kill_switch_release(
    *, account: BrokerAccount | None, user: User | None, source: str, now: datetime | None = None
) -> KillSwitch:
    now = now or timezone.now()
    switch = _switch(account)
    switch.engaged, switch.flatten = False, False
    switch.changed_by = user if user is not None and user.is_authenticated else None
    switch.changed_at = now
    switch.save()
    audit_record(
        user=user,
        action=AuditAction.KILL_SWITCH_RELEASE,
        obj=switch,
        source=source,
        details={"scope": account.pk if account else "global"},
        account_id=account.pk if account else None,
        now=now,
    )
    return switch
