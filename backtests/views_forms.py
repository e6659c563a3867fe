"""Dashboard forms of the backtester: start a backtest, an optimisation or a walk-forward; apply a pass's or a
backtest's parameters.

The form validates with the API's serializers (trading/dashboard/forms/backtests.py) and the views call the
same services as the API; the caller's role on the instance's account is checked by the serializer's
instance lookup (trading/permissions.py) and, for applying a pass, by account_allows.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from backtests.api_base import costs_from
from backtests.selectors import backtest_run_list_for_user, optimization_list_for_user
from backtests.services.apply import backtest_run_apply
from backtests.services.optimization import (
    OptimizationError,
    optimization_create,
    optimization_enqueue,
    optimization_pass_apply,
)
from backtests.services.runs import backtest_run_create, backtest_run_enqueue
from backtests.services.walkforward import WalkForwardError, walkforward_create
from backtests.services.walkforward_run import walkforward_enqueue
from trading.dashboard.forms.backtests import BacktestForm, OptimizationForm, WalkForwardForm
from trading.exceptions import ApplicationError
from trading.permissions import Action, account_allows

KINDS: dict[str, tuple[type[BacktestForm], str]] = {
    "backtest": (BacktestForm, "New backtest"),
    "optimization": (OptimizationForm, "New optimisation"),
    "walkforward": (WalkForwardForm, "New walk-forward"),
}


def _start(kind: str, data: dict[str, Any], user: Any) -> tuple[str, int]:
    """Create and queue the job through its service; returns (url name, id) of its page."""
    common = {
        "instance": data["instance"],
        "costs": costs_from(data),
        "initial_balance": data["initial_balance"],
        "engine": data["engine"],
        "owner": user,
    }
    if kind == "backtest":
        run = backtest_run_create(start=data.get("start"), end=data.get("end"), parameters=data["parameters"], **common)
        backtest_run_enqueue(run=run)
        return "backtests-dashboard:detail", run.pk
    search = {"space": data["space"], "method": data["method"], "samples": data["samples"], "seed": data["seed"]}
    if kind == "optimization":
        opt = optimization_create(start=data.get("start"), end=data.get("end"), **search, **common)
        optimization_enqueue(optimization=opt)
        return "backtests-dashboard:optimization", opt.pk
    wf = walkforward_create(
        start=data["start"],
        in_sample=data["in_sample"],
        out_of_sample=data["out_of_sample"],
        windows=data["windows"],
        mode=data["mode"],
        select_by=data["select_by"],
        select_descending=data["select_order"] == "desc",
        **search,
        **common,
    )
    walkforward_enqueue(walk_forward=wf)
    return "backtests-dashboard:walkforward", wf.pk


def _job_form(request: HttpRequest, kind: str) -> HttpResponse:
    form_class, title = KINDS[kind]
    initial = {"instance": request.GET.get("instance")} if request.GET.get("instance") else {}
    form = form_class(request.POST if request.method == "POST" else None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            url, pk = _start(kind, form.validated, request.user)
        except (OptimizationError, WalkForwardError) as e:
            form.add_error("space" if "space" in form.fields else None, str(e))
        except ApplicationError as e:
            form.add_error(None, e.message)
        except ValidationError as e:
            form.add_error(None, e.messages)
        else:
            messages.success(request, f"{title[4:].capitalize()} {pk} queued.")
            return redirect(url, pk)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "backtests/job_form.html", {"form": form, "title": title, "kind": kind}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def backtest_create(request: HttpRequest) -> HttpResponse:
    return _job_form(request, "backtest")


@login_required
@require_http_methods(["GET", "POST"])
def optimization_create_view(request: HttpRequest) -> HttpResponse:
    return _job_form(request, "optimization")


@login_required
@require_http_methods(["GET", "POST"])
def walkforward_create_view(request: HttpRequest) -> HttpResponse:
    return _job_form(request, "walkforward")


@login_required
@require_POST
def optimization_pass_apply_view(request: HttpRequest, optimization_id: int, pass_id: int) -> HttpResponse:
    """Apply a pass's parameters: to the optimised instance (``mode=update``) or to a new, disabled copy."""
    opt = get_object_or_404(
        optimization_list_for_user(user=request.user).select_related("instance"), pk=optimization_id
    )
    chosen = get_object_or_404(opt.passes.all(), pk=pass_id)
    mode = request.POST.get("mode", "update")
    if opt.instance is None or not account_allows(request.user, opt.instance.account, Action.TRADE):
        messages.error(request, "Its instance is gone or you may not trade on its account.")
        return redirect("backtests-dashboard:optimization", opt.pk)
    try:
        instance = optimization_pass_apply(optimization_pass=chosen, create=mode == "create")
    except (OptimizationError, ValidationError, ApplicationError) as e:
        messages.error(request, str(getattr(e, "message", e)))
        return redirect("backtests-dashboard:optimization", opt.pk)
    done = "copied into the new (disabled) instance" if mode == "create" else "applied to"
    messages.success(request, f"Pass {chosen.index}: parameters {done} #{instance.pk} {instance.name}.")
    return redirect("dashboard:instance", instance_id=instance.pk)


@login_required
@require_POST
def backtest_run_apply_view(request: HttpRequest, run_id: int) -> HttpResponse:
    """Apply a backtest's parameters: to its instance (``mode=update``) or to a new, disabled copy of it."""
    run = get_object_or_404(backtest_run_list_for_user(user=request.user).select_related("instance"), pk=run_id)
    mode = request.POST.get("mode", "update")
    if run.instance is None or not account_allows(request.user, run.instance.account, Action.TRADE):
        messages.error(request, "Its instance is gone or you may not trade on its account.")
        return redirect("backtests-dashboard:detail", run.pk)
    try:
        instance = backtest_run_apply(run=run, create=mode == "create")
    except (ValidationError, ApplicationError) as e:
        messages.error(request, str(getattr(e, "message", e)))
        return redirect("backtests-dashboard:detail", run.pk)
    done = "copied into the new (disabled) instance" if mode == "create" else "applied to"
    messages.success(request, f"Backtest {run.pk}: parameters {done} #{instance.pk} {instance.name}.")
    return redirect("dashboard:instance", instance_id=instance.pk)
