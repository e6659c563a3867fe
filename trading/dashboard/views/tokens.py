"""The API-token page: name and create a token (its key shown once), see when each was used, revoke."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from trading.dashboard.forms.trading import TokenForm
from trading.dashboard.models import ApiToken
from trading.dashboard.tokens import api_token_create, api_token_revoke


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tokens_view(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST if request.method == "POST" else None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            token, new_key = api_token_create(user=request.user, name=form.cleaned_data["name"])
        except ValidationError as e:
            form.add_error("name", e.message_dict.get("name", e.messages))
        else:
            form = TokenForm()
            messages.success(request, f"Token {token.name!r} created. Copy its key now: it is not shown again.")
    context = {
        "form": form,
        "new_key": new_key,
        "tokens": ApiToken.objects.filter(user_id=request.user.pk or 0).order_by("revoked_at", "-created_at")[:100],
    }
    return render(request, "dashboard/tokens.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    token = api_token_revoke(user=request.user, token_id=token_id)
    if token is None:
        messages.error(request, "No such active token of yours.")
    else:
        messages.success(request, f"Token {token.name!r} revoked: it no longer opens the API.")
    return redirect("dashboard:tokens")
