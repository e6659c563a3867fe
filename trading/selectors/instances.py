"""Strategy instances a user owns, with their last run."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from django.db.models import OuterRef, QuerySet, Subquery

from trading.models import Execution, StrategyInstance
from trading.permissions import Action, accounts_q
from trading.selectors.accounts import User


class LastRun(TypedDict):
    """The annotations ``instance_annotate_last_run`` adds (None: the instance never ran, or never failed)."""

    last_run_at: datetime | None
    last_bar_time: datetime | None
    last_status: str | None
    last_error: str | None
    last_error_at: datetime | None


def instance_annotate_last_run(qs: QuerySet[StrategyInstance]) -> QuerySet[StrategyInstance]:
    """Add the newest run (``last_run_at``, ``last_bar_time``, ``last_status``) and the newest error.

    ``last_error``/``last_error_at`` come from the newest run that recorded an error, which may be older
    than the last run: a failure stays visible after later runs succeed.
    """
    last = Execution.objects.filter(instance=OuterRef("pk")).order_by("-bar_time", "-id")
    last_failed = last.exclude(error="")
    return qs.annotate(
        last_run_at=Subquery(last.values("started_at")[:1]),
        last_bar_time=Subquery(last.values("bar_time")[:1]),
        last_status=Subquery(last.values("status")[:1]),
        last_error=Subquery(last_failed.values("error")[:1]),
        last_error_at=Subquery(last_failed.values("started_at")[:1]),
    )


def instance_list_for_user(
    *, user: User, filters: dict[str, Any] | None = None, action: Action = Action.VIEW
) -> QuerySet[StrategyInstance]:
    """Return the instances on accounts where ``user`` may do ``action``, with their last run
    (see ``instance_annotate_last_run``)."""
    if not user.is_authenticated:
        return StrategyInstance.objects.none()
    filters = filters or {}
    qs = StrategyInstance.objects.filter(accounts_q(user, action, via="account__")).select_related(
        "account", "instrument"
    )
    if filters.get("account") is not None:
        qs = qs.filter(account_id=filters["account"])
    if filters.get("instrument"):
        qs = qs.filter(instrument__symbol=filters["instrument"])
    if filters.get("enabled") is not None:
        qs = qs.filter(enabled=filters["enabled"])
    return instance_annotate_last_run(qs).order_by("instance_id")
