"""Instances from the dashboard: create, edit, clone, delete, the instance page, its actions and chart data.

Every lookup goes through trading/permissions.py (404 unseen, 403 not allowed); every write through a service.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from risk.services.manual import instance_close_all
from trading.dashboard.chart_data import instance_chart
from trading.dashboard.errors import bad_request
from trading.dashboard.forms.instances import InstanceForm, initial_from
from trading.dashboard.ui_values import strategy_ui_values
from trading.dashboard.views.home import executions_with_blocks
from trading.exceptions import ApplicationError
from trading.models import TradeState
from trading.permissions import Action, account_allows, instance_get
from trading.selectors.executions import execution_list_for_user
from trading.selectors.instances import instance_list_for_user
from trading.selectors.orders import order_list_for_user
from trading.selectors.trades import trade_list, trade_totals
from trading.services import instance_actions
from trading.services.instances import instance_create, instance_update

RECENT = 20
ACTIONS = {
    "enable": (instance_actions.instance_enable, "enabled: it runs at every bar close"),
    "disable": (instance_actions.instance_disable, "disabled: no more scheduled runs"),
    "pause": (instance_actions.instance_entries_pause, "paused: no new entries, open trades are still managed"),
    "resume": (instance_actions.instance_entries_resume, "resumed: new entries allowed"),
}


def _instance(request: HttpRequest, instance_id: int | str, action: Action = Action.VIEW):  # noqa: ANN202
    return instance_get(request.user, instance_id, action, queryset=instance_list_for_user(user=request.user))


def _save(request: HttpRequest, form: InstanceForm, instance=None):  # noqa: ANN001, ANN202
    """Create or update through the service; its refusals go next to the fields they name."""
    if not form.is_valid():
        return None
    try:
        if instance is None:
            return instance_create(**form.service_fields())
        return instance_update(instance, **form.service_fields())
    except ValidationError as e:
        form.add_service_errors(e.message_dict if hasattr(e, "error_dict") else {"__all__": e.messages})
    except ApplicationError as e:
        form.add_error(None, e.message)
    return None


@login_required
@require_http_methods(["GET", "POST"])
def instance_create_view(request: HttpRequest) -> HttpResponse:
    initial: dict[str, object] = {}
    source = None
    if request.GET.get("clone"):
        source = _instance(request, request.GET["clone"])
        initial = initial_from(source, clone=True)
    elif request.GET.get("account"):
        initial["account"] = request.GET["account"]
    if request.GET.get("strategy"):
        initial["strategy"] = request.GET["strategy"]
    form = InstanceForm(request.POST if request.method == "POST" else None, user=request.user, initial=initial)
    if request.method == "POST":
        created = _save(request, form)
        if created is not None:
            messages.success(request, f"Instance #{created.pk} {created.name} created.")
            return redirect("dashboard:instance", instance_id=created.pk)
    title = f"Clone #{source.pk} {source.name}" if source is not None else "New strategy instance"
    return render(request, "dashboard/instance_form.html", {"form": form, "title": title}, status=_status(form))


@login_required
@require_http_methods(["GET", "POST"])
def instance_edit_view(request: HttpRequest, instance_id: int) -> HttpResponse:
    instance = _instance(request, instance_id, Action.TRADE)
    form = InstanceForm(
        request.POST if request.method == "POST" else None,
        user=request.user,
        instance=instance,
        initial=initial_from(instance),
    )
    if request.method == "POST":
        saved = _save(request, form, instance)
        if saved is not None:
            messages.success(request, f"Instance #{saved.pk} saved.")
            return redirect("dashboard:instance", instance_id=saved.pk)
    context = {"form": form, "title": f"Edit #{instance.pk} {instance.name}", "instance": instance}
    return render(request, "dashboard/instance_form.html", context, status=_status(form))


def _status(form: InstanceForm) -> int:
    return 400 if form.is_bound and form.errors else 200


@login_required
@require_GET
def instance_params_view(request: HttpRequest) -> HttpResponse:
    """The parameter fields of the strategy picked in the form (htmx swaps them in when the picker changes)."""
    form = InstanceForm(user=request.user, initial={"strategy": request.GET.get("strategy")})
    return render(request, "dashboard/_instance_params.html", {"form": form})


@login_required
@require_GET
def instance_detail_view(request: HttpRequest, instance_id: int) -> HttpResponse:
    instance = _instance(request, instance_id)
    trades = trade_list(user=request.user, filters={"instance": instance.pk})
    context = {
        "instance": instance,
        "can_trade": account_allows(request.user, instance.account, Action.TRADE),
        "can_manage": account_allows(request.user, instance.account, Action.MANAGE),
        "totals": trade_totals(trades.filter(state=TradeState.CLOSED)),
        "open_totals": trade_totals(trades.filter(state=TradeState.OPEN)),
        "orders": list(order_list_for_user(user=request.user, filters={"instance": instance.pk})[:RECENT]),
        "closed_trades": list(trades.filter(state=TradeState.CLOSED)[:RECENT]),
        "ui_values": strategy_ui_values(instance),
        **_live(request, instance),
    }
    return render(request, "dashboard/instance.html", context)


def _live(request: HttpRequest, instance) -> dict[str, object]:  # noqa: ANN001
    executions = list(execution_list_for_user(user=request.user, filters={"instance": instance.pk})[:RECENT])
    executions_with_blocks(executions)
    open_trades = trade_list(user=request.user, filters={"instance": instance.pk, "state": TradeState.OPEN})
    return {
        "executions": executions,
        "open_trades": list(open_trades.select_related("instance")),
        "trade_ids": {instance.account_id} if account_allows(request.user, instance.account, Action.TRADE) else set(),
    }


@login_required
@require_GET
def instance_live_view(request: HttpRequest, instance_id: int, part: str) -> HttpResponse:
    instance = _instance(request, instance_id)
    templates = {"executions": "dashboard/_instance_executions.html", "trades": "dashboard/_open_trades.html"}
    if part not in templates:
        return HttpResponse(status=404)
    return render(request, templates[part], {"instance": instance, **_live(request, instance)})


@login_required
@require_GET
def instance_chart_view(request: HttpRequest, instance_id: int) -> JsonResponse:
    instance = _instance(request, instance_id)
    raw = request.GET.get("bars", "1500")
    count = int(raw) if raw.isdigit() else 1500
    return JsonResponse(instance_chart(instance, count=count))


@login_required
@require_POST
def instance_action_view(request: HttpRequest, instance_id: int) -> HttpResponse:
    action = request.POST.get("action", "")
    choices = (*ACTIONS, "run", "close_all")
    if action not in choices:
        return bad_request(request, field="action", reason=f"{action[:40]!r} is not one of {', '.join(choices)}")
    instance = _instance(request, instance_id, Action.TRADE)
    common = {"instance": instance, "user": request.user, "source": "dashboard"}
    if action == "run":
        task_id = instance_actions.instance_run_now(**common)
        messages.success(request, f"#{instance.pk}: run queued (task {task_id}).")
    elif action == "close_all":
        done = instance_close_all(**common)
        messages.success(request, f"#{instance.pk}: close orders sent for {len(done['trades_closed'])} open trade(s).")
    else:
        service, text = ACTIONS[action]
        service(**common)
        messages.success(request, f"#{instance.pk} {text}.")
    return redirect("dashboard:instance", instance_id=instance.pk)


@login_required
@require_POST
def instance_delete_view(request: HttpRequest, instance_id: int) -> HttpResponse:
    instance = _instance(request, instance_id, Action.MANAGE)
    account_id = instance.account_id
    try:
        instance_actions.instance_remove(instance=instance, user=request.user, source="dashboard")
    except ApplicationError as e:
        messages.error(request, e.message)
        return redirect("dashboard:instance", instance_id=instance.pk)
    messages.success(request, f"Instance #{instance_id} deleted.")
    return redirect("dashboard:account", account_id=account_id)
