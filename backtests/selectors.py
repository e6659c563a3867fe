"""Read queries of the backtester; every per-user query is filtered by owner and account role."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from backtests.models import BacktestRun, DriftReport, Optimization, WalkForward
from trading.permissions import accounts_q


def _visible(user) -> Q:
    """Rows the user started, or whose instance is on an account the user may view."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    return Q(owner=user) | accounts_q(user, via="instance__account__")


def backtest_run_list_for_user(*, user) -> QuerySet[BacktestRun]:
    """Runs the user started or whose instance is on an account the user may view."""
    return BacktestRun.objects.filter(_visible(user))


def optimization_list_for_user(*, user) -> QuerySet[Optimization]:
    """Optimisations the user started or whose instance is on an account the user may view."""
    return Optimization.objects.filter(_visible(user))


def walkforward_list_for_user(*, user) -> QuerySet[WalkForward]:
    """Walk-forwards the user started or whose instance is on an account the user may view."""
    return WalkForward.objects.filter(_visible(user))


def drift_report_list_for_user(*, user) -> QuerySet[DriftReport]:
    """Drift reports the user started or whose instance is on an account the user may view."""
    return DriftReport.objects.filter(_visible(user))
