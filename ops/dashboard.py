"""Dashboard pages: health (checks, processes, alerts) and the signed-in user's notification channels."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from ops.api import channel_list_for_user
from ops.events import DEFAULT_KINDS, EventKind
from ops.health.checks import overall, readiness
from ops.health.heartbeat import heartbeats
from ops.models import Condition, Notification, NotificationStatus
from ops.notify.channels import channel_create, channel_delete, channel_test, channel_update
from trading.models import BrokerAccount
from trading.selectors.accounts import account_list_for_user

RECENT = 30


class ChannelForm(forms.Form):
    name = forms.CharField(max_length=100, required=False)
    url = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "size": 60}),
        help_text="An apprise URL, e.g. tgram://bottoken/chatid or mailtos://user:app-password@smtp.gmail.com. "
        "Stored encrypted, never shown again; leave blank to keep the stored one.",
    )
    account: forms.ModelChoiceField = forms.ModelChoiceField(
        queryset=BrokerAccount.objects.none(), required=False, empty_label="every account of mine"
    )
    events = forms.MultipleChoiceField(
        choices=[c for c in EventKind.choices if c[0] != EventKind.TEST],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    enabled = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        account = self.fields["account"]
        assert isinstance(account, forms.ModelChoiceField)  # declared above
        account.queryset = account_list_for_user(user=user)


@login_required
def ops_index(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    results = readiness(now)
    try:
        beats = heartbeats()
    except Exception:
        beats = []
    context = {
        "status": overall(results),
        "checks": results,
        "processes": [(b, b.age(now)) for b in beats],
        "alerts": Condition.objects.filter(bad=True).order_by("kind", "key"),
        "channels": channel_list_for_user(user=request.user),
        "notifications": Notification.objects.filter(channel__in=channel_list_for_user(user=request.user))
        .select_related("channel")
        .order_by("-id")[:RECENT],
        "failed_status": NotificationStatus.FAILED,
    }
    return render(request, "ops/index.html", context)


def _save(request: HttpRequest, form: ChannelForm, channel: Any = None) -> Any:
    data = form.cleaned_data
    fields = {
        "name": data["name"],
        "account": data["account"],
        "events": data["events"],
        "enabled": data["enabled"],
    }
    if channel is None:
        return channel_create(owner=request.user, url=data["url"], **fields)
    return channel_update(channel, url=data["url"] or None, **fields)


@sensitive_post_parameters("url")
@login_required
def ops_channel_edit(request: HttpRequest, channel_id: int | None = None) -> HttpResponse:
    channel = get_object_or_404(channel_list_for_user(user=request.user), pk=channel_id) if channel_id else None
    if request.method == "POST":
        form = ChannelForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                channel = _save(request, form, channel)
            except ValidationError as e:
                for field, errors in e.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, f"Channel {channel.name} saved.")
                return HttpResponseRedirect(reverse("ops:index"))
        status = 400
    else:
        initial = {"events": DEFAULT_KINDS, "enabled": True}
        if channel is not None:
            initial = {
                "name": channel.name,
                "account": channel.account_id,
                "events": channel.events,
                "enabled": channel.enabled,
            }
        form = ChannelForm(initial=initial, user=request.user)
        status = 200
    return render(request, "ops/channel_form.html", {"form": form, "channel": channel}, status=status)


@require_POST
@login_required
def ops_channel_delete(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = get_object_or_404(channel_list_for_user(user=request.user), pk=channel_id)
    channel_delete(channel)
    messages.success(request, f"Channel {channel.name} deleted.")
    return HttpResponseRedirect(reverse("ops:index"))


@require_POST
@login_required
def ops_channel_test(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = get_object_or_404(channel_list_for_user(user=request.user), pk=channel_id)
    note = channel_test(channel)
    if note.status == NotificationStatus.SENT:
        messages.success(request, f"Test message sent to {channel.name}.")
    else:
        messages.error(request, f"Test message to {channel.name} failed: {note.last_error}")
    return HttpResponseRedirect(reverse("ops:index"))
