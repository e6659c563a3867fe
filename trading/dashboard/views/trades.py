"""Trades from the dashboard: the history (sortable, paginated), close, SL/TP change, close all of an account.

Each action asks trading/permissions.py first and goes through one service, which writes the audit entry.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from risk.services.manual import account_close_all
from trading.dashboard.forms.trading import TradeModifyForm
from trading.dashboard.tables import Column, table
from trading.exceptions import ApplicationError
from trading.models import Trade, TradeState
from trading.permissions import NOT_FOUND, Action, account_get, object_check
from trading.selectors.trades import trade_filter, trade_list, trade_totals
from trading.services.trades import trade_close, trade_modify

HISTORY_COLUMNS = (
    Column("ticket", "Ticket", "id", num=True),
    Column("instance", "Instance", "instance_id"),
    Column("instrument", "Symbol", "instrument__symbol"),
    Column("side", "Type", "side"),
    Column("units", "Units", "initial_units", num=True),
    Column("open_time", "Open time (UTC)", "open_time"),
    Column("open_price", "Open price", "open_price", num=True),
    Column("close_time", "Close time (UTC)", "close_time"),
    Column("close_price", "Close price", "close_price", num=True),
    Column("reason", "Reason", "close_reason"),
    Column("commission", "Commission", "commission", num=True),
    Column("financing", "Swap", "financing", num=True),
    Column("profit", "Profit", "realized_pl", num=True),
)


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


def _trade(request: HttpRequest, trade_id: int, action: Action) -> Trade:
    trade = trade_list(user=request.user).select_related("instance").filter(pk=trade_id).first()
    if trade is None:
        raise Http404(NOT_FOUND)
    object_check(request.user, trade, action)
    return trade


@login_required
@require_GET
def trade_history_view(request: HttpRequest, account_id: int) -> HttpResponse:
    """Closed trades of an account, MetaTrader's columns, sortable by any, 50 a page."""
    account = account_get(request.user, account_id)  # the permission check; the rows are this account's
    raw = request.GET.get("instance", "")
    filters = {"state": TradeState.CLOSED, "instance": int(raw) if raw.isdigit() and len(raw) < 12 else None}
    qs = trade_filter(Trade.objects.filter(account=account), filters)
    totals = trade_totals(qs)
    history = table(
        request,
        qs,
        HISTORY_COLUMNS,
        default="-close_time",
        related=("instrument", "instance"),
        count=sum(t.trades for t in totals),
    )
    context = {"account": account, "table": history, "totals": totals, "instance_filter": raw}
    return render(request, "dashboard/trade_history.html", context)


@login_required
@require_POST
def trade_close_view(request: HttpRequest, trade_id: int) -> HttpResponse:
    trade = _trade(request, trade_id, Action.TRADE)
    try:
        order = trade_close(trade=trade, user=request.user, source="dashboard")
    except ApplicationError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, f"Trade {trade.pk}: close order {order.client_order_id} sent.")
    return _back(request, "dashboard:index")


@login_required
@require_http_methods(["GET", "POST"])
def trade_modify_view(request: HttpRequest, trade_id: int) -> HttpResponse:
    trade = _trade(request, trade_id, Action.TRADE)
    if trade.state != TradeState.OPEN:
        messages.error(request, f"Trade {trade.pk} is closed.")
        return redirect("dashboard:account", account_id=trade.account_id)
    form = TradeModifyForm(
        request.POST if request.method == "POST" else None,
        initial={"stop_loss": trade.stop_loss, "take_profit": trade.take_profit},
    )
    if request.method == "POST" and form.is_valid():
        try:
            order = trade_modify(
                trade=trade,
                stop_loss=form.cleaned_data["stop_loss"],
                take_profit=form.cleaned_data["take_profit"],
                user=request.user,
                source="dashboard",
            )
        except ApplicationError as e:
            field = next(iter(e.extra), None) if e.extra else None
            form.add_error(field if field in form.fields else None, e.message)
        else:
            messages.success(request, f"Trade {trade.pk}: SL/TP change {order.client_order_id} sent.")
            if trade.instance_id is not None:
                return redirect("dashboard:instance", instance_id=trade.instance_id)
            return redirect("dashboard:account", account_id=trade.account_id)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "dashboard/trade_modify.html", {"trade": trade, "form": form}, status=status)


@login_required
@require_POST
def account_close_all_view(request: HttpRequest, account_id: int) -> HttpResponse:
    account = account_get(request.user, account_id, Action.TRADE)
    done = account_close_all(account=account, user=request.user, source="dashboard")
    messages.success(request, f"{account.name}: close orders sent for {len(done['trades_closed'])} open trade(s).")
    return redirect("dashboard:account", account_id=account.pk)
