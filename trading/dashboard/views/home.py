"""The dashboard's overview and account pages, their live fragments (htmx polling), and the equity data."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from risk.models import BlockedSignal
from trading.dashboard.chart_data import account_equity
from trading.dashboard.forms.trading import StatementForm
from trading.models import Execution, Trade, TradeState
from trading.permissions import Action, account_get, accounts_for
from trading.selectors.bars import bar_coverage_for_user
from trading.selectors.executions import execution_list_for_user
from trading.selectors.instances import instance_list_for_user
from trading.selectors.trades import trade_list_open, trade_totals

RECENT_EXECUTIONS = 20
RECENT_CLOSED = 20
MAX_GAPS_SHOWN = 50


def _live_context(request: HttpRequest, account_id: int | None = None) -> dict[str, object]:
    """What the live fragments show: accounts' figures, open trades and the newest runs."""
    user = request.user
    accounts = accounts_for(user)
    open_trades = trade_list_open(user=user).select_related("instance")
    executions = execution_list_for_user(user=user).select_related("instance")
    if account_id is not None:
        accounts = accounts.filter(pk=account_id)
        open_trades = open_trades.filter(account_id=account_id)
        executions = executions.filter(instance__account_id=account_id)
    return {
        "accounts": list(accounts),
        "open_trades": list(open_trades),
        "executions": executions_with_blocks(list(executions[:RECENT_EXECUTIONS])),
        "trade_ids": set(accounts_for(user, Action.TRADE).values_list("pk", flat=True)),
    }


def executions_with_blocks(executions: list[Execution]) -> list[Execution]:
    """Attach to each run the signals the guard rails blocked (``blocked``), so a run the kill switch stopped
    does not read as a plain green success with 0 orders. One query."""
    blocked: dict[int, list[BlockedSignal]] = {}
    rows = BlockedSignal.objects.filter(execution__in=[e.pk for e in executions]).order_by("created_at")
    for block in rows:
        blocked.setdefault(block.execution_id, []).append(block)  # type: ignore[arg-type]
    for execution in executions:
        execution.blocked = blocked.get(execution.pk, [])  # type: ignore[attr-defined]
    return executions


@login_required
@require_GET
def dashboard_index(request: HttpRequest) -> HttpResponse:
    context = {
        **_live_context(request),
        "instances": list(instance_list_for_user(user=request.user)),
        "coverage": bar_coverage_for_user(user=request.user, with_gaps=False),
    }
    return render(request, "dashboard/index.html", context)


@login_required
@require_GET
def dashboard_live(request: HttpRequest, part: str) -> HttpResponse:
    """One live fragment of the overview or of an account page (``?account=``): accounts, trades, executions."""
    raw = request.GET.get("account")
    account_id = account_get(request.user, raw).pk if raw else None
    templates = {
        "accounts": "dashboard/_accounts.html",
        "trades": "dashboard/_open_trades.html",
        "executions": "dashboard/_executions.html",
        "instances": "dashboard/_instances.html",
    }
    if part not in templates:
        return HttpResponse(status=404)
    context: dict[str, object]
    if part == "instances":
        filters = {"account": account_id} if account_id is not None else None
        context = {"instances": list(instance_list_for_user(user=request.user, filters=filters))}
    else:
        context = _live_context(request, account_id)
    return render(request, templates[part], {**context, "live_account": account_id})


@login_required
@require_GET
def dashboard_banner(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/_banner.html")


@login_required
@require_GET
def dashboard_coverage(request: HttpRequest) -> HttpResponse:
    context = {"coverage": bar_coverage_for_user(user=request.user, with_gaps=True), "max_gaps": MAX_GAPS_SHOWN}
    return render(request, "dashboard/coverage.html", context)


@login_required
@require_GET
def dashboard_account(request: HttpRequest, account_id: int) -> HttpResponse:
    account = account_get(request.user, account_id)  # the permission check; the rows below are this account's
    closed = Trade.objects.filter(account=account, state=TradeState.CLOSED)
    latest = list(closed.order_by("-close_time", "-id").values_list("pk", flat=True)[:RECENT_CLOSED])
    rows = Trade.objects.filter(pk__in=latest).select_related("instrument", "instance").in_bulk()
    context = {
        **_live_context(request, account.pk),
        "account": account,
        "live_account": account.pk,  # the page's live fragments poll this account's rows only
        "can_trade": account.pk in accounts_for(request.user, Action.TRADE).values_list("pk", flat=True),
        "instances": list(instance_list_for_user(user=request.user, filters={"account": account.pk})),
        "closed_trades": [rows[pk] for pk in latest],
        "totals": trade_totals(closed),
    }
    return render(request, "dashboard/account.html", context)


@login_required
@require_GET
def dashboard_account_equity(request: HttpRequest, account_id: int) -> JsonResponse:
    """Equity, balance and drawdown; ``?start=&end=`` (dates, UTC) limits it to a statement's period."""
    account = account_get(request.user, account_id)
    period = StatementForm(request.GET)
    if "start" in request.GET and period.is_valid():
        start, end = period.period()
        return JsonResponse(account_equity(account, start=start, end=end))
    return JsonResponse(account_equity(account))
