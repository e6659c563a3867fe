"""The audit log: one row per manual action (and per automatic close-everything), who, when, what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.db import models
from django.utils import timezone

from risk.models import AuditLogEntry

SOURCES = ("admin", "api", "dashboard", "system")


def audit_record(
    *,
    user: AuthUser | AnonymousUser | None,
    action: str,
    obj: models.Model | None,
    source: str,
    details: dict[str, Any] | None = None,
    account_id: int | None = None,
    now: datetime | None = None,
) -> AuditLogEntry:
    """Write one audit entry; ``user`` None (or anonymous) means the platform acted on its own."""
    if source not in SOURCES:
        raise ValueError(f"audit source must be one of {', '.join(SOURCES)}, was {source!r}")
    if user is not None and not user.is_authenticated:
        user = None
    if account_id is None and obj is not None:
        account_id = getattr(obj, "account_id", None)
    return AuditLogEntry.objects.create(
        user=user,
        username=user.get_username() if user is not None else "",
        time=now or timezone.now(),
        action=action,
        source=source,
        account_id=account_id,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        details=details or {},
    )
