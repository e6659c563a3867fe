"""Dashboard page ``/risk/``: kill switches, limits, blocked signals, audit log, and the manual actions (POST)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from risk.selectors import audit_list_for_user, blocked_list_for_user, kill_switch_list_for_user, limit_list_for_user
from risk.services.kill_switch import kill_switch_engage, kill_switch_release
from risk.services.manual import instance_close_all, instance_pause, instance_resume, trade_close
from trading.dashboard.errors import bad_request
from trading.exceptions import ApplicationError
from trading.permissions import NOT_FOUND, Action, account_get, instance_get, object_check
from trading.selectors.accounts import account_list_for_user
from trading.selectors.instances import instance_list_for_user
from trading.selectors.trades import trade_list_open

ACTIONS = ("close_all", "pause", "resume")

SHOWN = 50


@login_required
def risk_index(request: HttpRequest) -> HttpResponse:
    user = request.user
    accounts = list(account_list_for_user(user=user))
    switches = {s.account_id: s for s in kill_switch_list_for_user(user=user)}
    context = {
        "global_switch": switches.get(None),
        "accounts": [(a, switches.get(a.pk)) for a in accounts],
        "limits": list(limit_list_for_user(user=user)),
        "instances": list(instance_list_for_user(user=user)),
        "open_trades": list(trade_list_open(user=user)),
        "blocked": list(blocked_list_for_user(user=user)[:SHOWN]),
        "audit": list(audit_list_for_user(user=user)[:SHOWN]),
        # Accounts where the caller's role allows the buttons (viewers see the page without them).
        "trade_ids": set(account_list_for_user(user=user, action=Action.TRADE).values_list("pk", flat=True)),
    }
    return render(request, "risk/index.html", context)


def _done(request: HttpRequest, text: str) -> HttpResponseRedirect:
    messages.success(request, text)
    return redirect("risk-dashboard:index")


@login_required
@require_POST
def risk_kill_switch(request: HttpRequest) -> HttpResponse:
    if request.POST.get("action") not in ("engage", "release", None):
        return bad_request(request, field="action", reason="must be engage or release")
    if len(request.POST.get("reason", "")) > 200:
        return bad_request(request, field="reason", reason="at most 200 characters")
    raw = request.POST.get("account", "").strip()
    account = None
    if raw:
        if not raw.isdigit() or not 1 <= int(raw) <= 2**63 - 1:
            return bad_request(request, field="account", reason=f"{raw[:40]!r} is not an account id")
        account = account_get(request.user, raw, Action.TRADE)
    elif not request.user.is_superuser:
        messages.error(request, "Only a superuser may use the global kill switch.")
        return redirect("risk-dashboard:index")
    if request.POST.get("action") == "release":
        kill_switch_release(account=account, user=request.user, source="dashboard")
        return _done(request, "Kill switch released.")
    kill_switch_engage(
        account=account,
        user=request.user,
        source="dashboard",
        flatten=request.POST.get("flatten") == "on",
        reason=request.POST.get("reason", ""),
    )
    return _done(request, "Kill switch engaged.")


@login_required
@require_POST
def risk_instance_action(request: HttpRequest, instance_id: int) -> HttpResponse:
    action = request.POST.get("action")
    if action not in ACTIONS:
        return bad_request(request, field="action", reason=f"{str(action)[:40]!r} is not one of {', '.join(ACTIONS)}")
    instance = instance_get(request.user, instance_id, Action.TRADE)
    if action == "close_all":
        instance_close_all(instance=instance, user=request.user, source="dashboard")
        return _done(request, f"#{instance.pk}: close orders sent for every open trade.")
    if action == "pause":
        instance_pause(instance=instance, user=request.user, source="dashboard")
        return _done(request, f"#{instance.pk}: paused.")
    instance_resume(instance=instance, user=request.user, source="dashboard")
    return _done(request, f"#{instance.pk}: resumed.")


@login_required
@require_POST
def risk_trade_close(request: HttpRequest, trade_id: int) -> HttpResponse:
    trade = trade_list_open(user=request.user).filter(pk=trade_id).first()
    if trade is None:
        raise Http404(NOT_FOUND)
    object_check(request.user, trade, Action.TRADE)
    try:
        order = trade_close(trade=trade, user=request.user, source="dashboard")
    except ApplicationError as e:
        messages.error(request, e.message)
        return redirect("risk-dashboard:index")
    return _done(request, f"Trade {trade.pk}: close order {order.client_order_id} sent.")
