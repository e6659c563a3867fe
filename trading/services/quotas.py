"""Per-user quotas: how much of the shared platform one user may hold at once.

One worker process serves many users (framework slots, CPU for backtests), so each user's share is capped
by settings (``ASIRIKUY_QUOTA_*``, 0 = no cap). The services call these checks before they create anything,
so the API, the admin and the dashboard all answer the same 400 naming the quota. Superusers are not capped:
they run the platform.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from trading.exceptions import ApplicationError

# quota name -> (settings attribute, environment variable, what is counted)
QUOTAS: dict[str, tuple[str, str, str]] = {
    "accounts": ("QUOTA_ACCOUNTS", "ASIRIKUY_QUOTA_ACCOUNTS", "broker accounts"),
    "instances": ("QUOTA_INSTANCES", "ASIRIKUY_QUOTA_INSTANCES", "strategy instances"),
    "backtests": (
        "QUOTA_BACKTESTS",
        "ASIRIKUY_QUOTA_BACKTESTS",
        "backtests, walk-forwards and drift reports pending or running",
    ),
    "optimization_passes": (
        "QUOTA_OPTIMIZATION_PASSES",
        "ASIRIKUY_QUOTA_OPTIMIZATION_PASSES",
        "optimisation passes pending or running",
    ),
}


class QuotaExceeded(ApplicationError):
    """The user already holds as much of this resource as the quota allows; nothing was created."""

    def __init__(self, *, quota: str, limit: int, used: int, adding: int) -> None:
        _, env, what = QUOTAS[quota]
        super().__init__(
            f"quota {quota} exceeded: at most {limit} {what} per user ({env}); you have {used}, this adds {adding}",
            {"quota": quota, "limit": limit, "used": used, "adding": adding},
        )


def quota_limit(quota: str) -> int:
    """The configured cap (0 = none)."""
    return int(getattr(settings, QUOTAS[quota][0], 0) or 0)


def _used(quota: str, user: Any) -> int:
    from trading.models import BrokerAccount, StrategyInstance

    if quota == "accounts":
        return BrokerAccount.objects.filter(owner=user).count()
    if quota == "instances":
        return StrategyInstance.objects.filter(account__owner=user).count()
    from backtests.models import BacktestRun, DriftReport, OptimizationPass, RunStatus, WalkForward

    open_ = (RunStatus.PENDING, RunStatus.RUNNING)
    if quota == "backtests":
        return sum(
            m.objects.filter(owner=user, status__in=open_).count() for m in (BacktestRun, WalkForward, DriftReport)
        )
    return OptimizationPass.objects.filter(optimization__owner=user, status__in=open_).count()


def quota_check(*, user: Any, quota: str, adding: int = 1) -> None:
    """Raise QuotaExceeded when ``user`` adding ``adding`` more would pass the cap (no user: a command, no cap)."""
    limit = quota_limit(quota)
    if not limit or user is None or getattr(user, "is_superuser", False):
        return
    used = _used(quota, user)
    if used + adding > limit:
        raise QuotaExceeded(quota=quota, limit=limit, used=used, adding=adding)
