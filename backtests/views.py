"""Dashboard pages of the backtester: runs, optimisations, drift reports (server-rendered, no JavaScript)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from backtests.engine.stats import MT_NAMES
from backtests.permissions import job_change_check
from backtests.report import equity_chart, report_context, statistics_rows
from backtests.selectors import (
    backtest_run_list_for_user,
    drift_report_list_for_user,
    optimization_list_for_user,
    walkforward_list_for_user,
)
from backtests.services.optimization import OPEN_STATUSES, optimization_passes_sorted
from backtests.services.walkforward_run import walkforward_cancel, walkforward_progress

COLUMNS = (
    "net_profit",
    "profit_factor",
    "expected_payoff",
    "equity_drawdown_relative",
    "total_trades",
    "sharpe_ratio",
    "recovery_factor",
)


@login_required
def backtest_list(request: HttpRequest) -> HttpResponse:
    """The caller's backtests and optimisations, newest first, with status and headline figures."""
    runs = backtest_run_list_for_user(user=request.user).order_by("-created_at")[:200]
    optimizations = optimization_list_for_user(user=request.user).order_by("-created_at")[:100]
    return render(request, "backtests/list.html", {"runs": runs, "optimizations": optimizations})


@login_required
def backtest_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(backtest_run_list_for_user(user=request.user).select_related("instance"), pk=run_id)
    return render(request, "backtests/detail.html", report_context(run))


@login_required
def optimization_detail(request: HttpRequest, optimization_id: int) -> HttpResponse:
    """The passes of an optimisation, sorted by the statistic in ?sort= (&order=asc|desc)."""
    opt = get_object_or_404(optimization_list_for_user(user=request.user), pk=optimization_id)
    key = request.GET.get("sort", "net_profit")
    descending = request.GET.get("order", "desc") != "asc"
    passes = optimization_passes_sorted(optimization=opt, key=key, descending=descending)
    names = sorted({name for p in passes for name in p.parameters})
    rows = [(p, [p.parameters.get(n) for n in names], [(p.statistics or {}).get(c) for c in COLUMNS]) for p in passes]
    columns = [(c, MT_NAMES.get(c, c)) for c in COLUMNS]
    return render(
        request,
        "backtests/optimization.html",
        {"opt": opt, "rows": rows, "names": names, "columns": columns, "sort": key, "descending": descending},
    )


@login_required
def drift_list(request: HttpRequest) -> HttpResponse:
    reports = drift_report_list_for_user(user=request.user).order_by("-created_at")[:200]
    return render(request, "backtests/drift_list.html", {"reports": reports})


@login_required
def drift_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    """One drift report: the summary, the totals and one row per trade (live vs replay)."""
    report = get_object_or_404(drift_report_list_for_user(user=request.user), pk=report_id)
    return render(request, "backtests/drift.html", {"report": report, "rows": list(report.rows.all())})


@login_required
def walkforward_list(request: HttpRequest) -> HttpResponse:
    rows = walkforward_list_for_user(user=request.user).order_by("-created_at")[:200]
    return render(request, "backtests/walkforward_list.html", {"rows": rows})


@login_required
def walkforward_detail(request: HttpRequest, walk_forward_id: int) -> HttpResponse:
    """Progress, the stitched OOS equity, the efficiency and each window's chosen parameters."""
    wf = get_object_or_404(walkforward_list_for_user(user=request.user), pk=walk_forward_id)
    windows = list(wf.window_rows.select_related("model").order_by("index"))
    names = sorted({name for w in windows for name in w.parameters})
    rows = [(w, [w.parameters.get(n) for n in names]) for w in windows]
    return render(
        request,
        "backtests/walkforward.html",
        {
            "wf": wf,
            "rows": rows,
            "names": names,
            "equity": equity_chart(wf),
            "statistics": statistics_rows(wf),
            "progress": walkforward_progress(walk_forward=wf),
            "open": wf.status in OPEN_STATUSES,
        },
    )


@login_required
@require_POST
def walkforward_cancel_view(request: HttpRequest, walk_forward_id: int) -> HttpResponse:
    wf = get_object_or_404(walkforward_list_for_user(user=request.user), pk=walk_forward_id)
    job_change_check(request.user, wf)
    if walkforward_cancel(walk_forward_id=wf.pk):
        messages.success(request, f"Walk-forward {wf.pk} cancelled.")
    else:
        messages.warning(request, f"Walk-forward {wf.pk} had already ended ({wf.status}).")
    return redirect("backtests-dashboard:walkforward", walk_forward_id=wf.pk)
