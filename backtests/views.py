"""Dashboard page of one backtest run (server-rendered SVG, no JavaScript)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from backtests.report import report_context
from backtests.selectors import backtest_run_list_for_user


@login_required
def backtest_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(backtest_run_list_for_user(user=request.user).select_related("instance"), pk=run_id)
    return render(request, "backtests/detail.html", report_context(run))
