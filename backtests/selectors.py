"""Read queries of the backtester; every per-user query is filtered by owner."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from backtests.models import BacktestRun, DriftReport, Optimization, WalkForward


def backtest_run_list_for_user(*, user) -> QuerySet[BacktestRun]:
    """Runs the user started or whose instance is on one of the user's accounts."""
    return BacktestRun.objects.filter(Q(owner=user) | Q(instance__account__owner=user)).distinct()


def optimization_list_for_user(*, user) -> QuerySet[Optimization]:
    """Optimisations the user started or whose instance is on one of the user's accounts."""
    return Optimization.objects.filter(Q(owner=user) | Q(instance__account__owner=user)).distinct()


def walkforward_list_for_user(*, user) -> QuerySet[WalkForward]:
    """Walk-forwards the user started or whose instance is on one of the user's accounts."""
    return WalkForward.objects.filter(Q(owner=user) | Q(instance__account__owner=user)).distinct()


def drift_report_list_for_user(*, user) -> QuerySet[DriftReport]:
    """Drift reports the user started or whose instance is on one of the user's accounts."""
    return DriftReport.objects.filter(Q(owner=user) | Q(instance__account__owner=user)).distinct()
