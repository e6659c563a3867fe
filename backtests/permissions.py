"""Who may change a piece of backtester work: whoever started it, or a trader on its instance's account."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied

from trading.permissions import Action, account_allows


def job_change_check(user: Any, job: Any) -> None:
    """Raise PermissionDenied unless ``user`` started ``job`` or may trade on its instance's account."""
    if job.owner_id is not None and job.owner_id == user.pk:
        return
    if job.instance is not None and account_allows(user, job.instance.account, Action.TRADE):
        return
    raise PermissionDenied(
        f"{job._meta.verbose_name} {job.pk}: only who started it or a trader on its account may change it"
    )
