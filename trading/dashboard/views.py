"""Server-rendered dashboard: the signed-in user's accounts, instances, trades and runs."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from trading.dashboard.charts import equity_chart
from trading.models import TradeState
from trading.selectors.accounts import account_list_for_user, equity_series
from trading.selectors.bars import bar_coverage_for_user
from trading.selectors.catalog import strategy_names
from trading.selectors.executions import execution_list_for_user
from trading.selectors.instances import instance_list_for_user
from trading.selectors.trades import trade_list, trade_list_open, trade_totals

RECENT_EXECUTIONS = 20
CLOSED_TRADES = 50
MAX_GAPS_SHOWN = 50


@login_required
def dashboard_index(request: HttpRequest) -> HttpResponse:
    user = request.user
    accounts = list(account_list_for_user(user=user))
    names = strategy_names()
    instances = list(instance_list_for_user(user=user))
    for instance in instances:
        instance.strategy_name = names.get(instance.strategy_id, f"unknown ({instance.strategy_id})")
    context = {
        "accounts": [(account, equity_chart(equity_series(account=account))) for account in accounts],
        "instances": instances,
        "open_trades": list(trade_list_open(user=user)),
        "executions": list(execution_list_for_user(user=user)[:RECENT_EXECUTIONS]),
        "coverage": bar_coverage_for_user(user=user, with_gaps=False),
    }
    return render(request, "dashboard/index.html", context)


@login_required
def dashboard_coverage(request: HttpRequest) -> HttpResponse:
    context = {"coverage": bar_coverage_for_user(user=request.user, with_gaps=True), "max_gaps": MAX_GAPS_SHOWN}
    return render(request, "dashboard/coverage.html", context)


@login_required
def dashboard_account(request: HttpRequest, account_id: int) -> HttpResponse:
    account = get_object_or_404(account_list_for_user(user=request.user), pk=account_id)
    closed = trade_list(user=request.user, filters={"account": account.pk, "state": TradeState.CLOSED})
    context = {
        "account": account,
        "chart": equity_chart(equity_series(account=account, limit=2000), width=900, height=280),
        "instances": list(instance_list_for_user(user=request.user, filters={"account": account.pk})),
        "open_trades": list(trade_list_open(user=request.user).filter(account=account)),
        "closed_trades": list(closed[:CLOSED_TRADES]),
        "totals": trade_totals(closed),
    }
    return render(request, "dashboard/account.html", context)
