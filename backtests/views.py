"""Dashboard pages of the backtester: runs, optimisations, walk-forwards, drift reports, and the live progress
fragments (htmx polls them while a job runs). The forms that start jobs are in views_forms.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from backtests.chart_data import run_equity_chart, run_price_chart
from backtests.models import RunStatus
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
from trading.dashboard.display import statistic_name, statistic_value
from trading.dashboard.tables import Column, table
from trading.permissions import Action, account_allows

SHOWN_PASSES = 500
LIST_COLUMNS = ("total_trades", "net_profit", "profit_factor", "equity_drawdown_relative")
COLUMNS = (
    "net_profit",
    "profit_factor",
    "expected_payoff",
    "equity_drawdown_relative",
    "total_trades",
    "sharpe_ratio",
    "recovery_factor",
)


RUN_COLUMNS = (
    Column("run", "#", "id", num=True),
    Column("instance", "Instance"),
    Column("strategy", "Strategy", "strategy_id"),
    Column("engine", "Engine", "engine"),
    Column("status", "Status", "status"),
    *(Column(key, statistic_name(key), f"statistics__{key}", num=True, nulls_last=True) for key in LIST_COLUMNS),
    Column("created", "Created (UTC)", "created_at"),
)
TRADE_COLUMNS = (
    Column("ticket", "Ticket", "ticket", num=True),
    Column("side", "Type", "side"),
    Column("units", "Units", "units", num=True),
    Column("open_time", "Open time (UTC)", "open_time"),
    Column("open_price", "Open price", "open_price", num=True),
    Column("stop_loss", "S/L", "stop_loss", num=True),
    Column("take_profit", "T/P", "take_profit", num=True),
    Column("close_time", "Close time (UTC)", "close_time"),
    Column("close_price", "Close price", "close_price", num=True),
    Column("reason", "Reason", "close_reason"),
    Column("commission", "Commission", "commission", num=True),
    Column("swap", "Swap", "swap", num=True),
    Column("profit", "Profit", "profit", num=True),
    Column("balance", "Balance", "balance", num=True),
)


@login_required
def backtest_list(request: HttpRequest) -> HttpResponse:
    """The caller's backtests (sortable by any column, statistics included, 50 a page) and optimisations."""
    runs = table(request, backtest_run_list_for_user(user=request.user), RUN_COLUMNS, default="-run")
    for run in runs.rows:
        stats = run.statistics or {}
        run.figures = [statistic_value(c, stats.get(c), run.account_currency) for c in LIST_COLUMNS]
        progress = _progress("backtest", run)
        run.progress_percent, run.is_open = progress["percent"], progress["open"]
    optimizations = optimization_list_for_user(user=request.user).order_by("-created_at")[:100]
    return render(request, "backtests/list.html", {"table": runs, "optimizations": optimizations})


@login_required
def backtest_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    """The report with zoomable charts, the trades (sortable, paginated) and applying the run's parameters."""
    run = get_object_or_404(
        backtest_run_list_for_user(user=request.user).select_related("instance__instrument"), pk=run_id
    )
    trades = table(request, run.trades.all(), TRADE_COLUMNS, default="ticket", tiebreak="id")
    can_apply = (
        run.status == RunStatus.DONE
        and run.instance is not None
        and account_allows(request.user, run.instance.account, Action.TRADE)
    )
    digits = run.instance.instrument.digits if run.instance is not None else 5
    context = {
        **report_context(run, svg=False),
        **_progress("backtest", run),
        "trades": trades,
        "digits": digits,
        "can_apply": can_apply,
    }
    return render(request, "backtests/detail.html", context)


@login_required
def backtest_chart(request: HttpRequest, run_id: int, kind: str) -> HttpResponse:
    """Chart data of a run: ``price`` (candles and trades) or ``equity`` (with the drawdown)."""
    run = get_object_or_404(backtest_run_list_for_user(user=request.user).select_related("instance"), pk=run_id)
    if kind == "price":
        return JsonResponse(run_price_chart(run))
    if kind == "equity":
        return JsonResponse(run_equity_chart(run))
    return HttpResponse(status=404)


@login_required
def job_progress(request: HttpRequest, kind: str, job_id: int) -> HttpResponse:
    """The live status line of a backtest, optimisation or walk-forward (polled while it is open)."""
    lists = {
        "backtest": backtest_run_list_for_user,
        "optimization": optimization_list_for_user,
        "walkforward": walkforward_list_for_user,
    }
    if kind not in lists:
        return HttpResponse(status=404)
    job = get_object_or_404(lists[kind](user=request.user), pk=job_id)
    return render(request, "backtests/_progress.html", _progress(kind, job))


def _progress(kind: str, job) -> dict:  # noqa: ANN001
    if kind == "backtest":
        fraction = job.progress
    elif kind == "optimization":
        fraction = job.passes_done / job.passes_total if job.passes_total else 0.0
    else:
        fraction = walkforward_progress(walk_forward=job).fraction
    return {
        "kind": kind,
        "job": job,
        "percent": round(100 * min(max(fraction, 0.0), 1.0), 1),
        "open": job.status in (RunStatus.PENDING, RunStatus.RUNNING),
    }


@login_required
def optimization_detail(request: HttpRequest, optimization_id: int) -> HttpResponse:
    """The passes of an optimisation, sorted by the statistic in ?sort= (&order=asc|desc)."""
    opt = get_object_or_404(optimization_list_for_user(user=request.user), pk=optimization_id)
    key = request.GET.get("sort", "net_profit")
    descending = request.GET.get("order", "desc") != "asc"
    passes = list(optimization_passes_sorted(optimization=opt, key=key, descending=descending))[:SHOWN_PASSES]
    names = sorted({name for p in passes for name in p.parameters})
    currency = opt.account_currency
    rows = [
        (
            p,
            [p.parameters.get(n) for n in names],
            [statistic_value(c, (p.statistics or {}).get(c), currency) for c in COLUMNS],
        )
        for p in passes
    ]
    columns = [(c, statistic_name(c)) for c in COLUMNS]
    can_apply = opt.instance is not None and account_allows(request.user, opt.instance.account, Action.TRADE)
    context = {
        "opt": opt,
        "rows": rows,
        "names": names,
        "columns": columns,
        "sort": key,
        "descending": descending,
        "can_apply": can_apply,
        **_progress("optimization", opt),
    }
    return render(request, "backtests/optimization.html", context)


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
            **{k: v for k, v in _progress("walkforward", wf).items() if k != "open"},
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
