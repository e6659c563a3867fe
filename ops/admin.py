"""Admin: notification channels (URL write-only, "send test" action), their messages, events and alerts."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

from ops.events import EventKind
from ops.models import Condition, Event, Notification, NotificationChannel, NotificationStatus
from ops.notify.channels import channel_create, channel_test, channel_update, url_describe
from trading.admin.base import OwnerScopedAdmin, ReadOnlyAdminMixin


class ChannelAdminForm(forms.ModelForm):
    url = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "size": 80}),
        help_text="apprise URL (tgram://…, mailtos://…, json://…). Write-only: stored encrypted and never shown. "
        "Leave blank to keep the stored URL.",
    )
    events = forms.MultipleChoiceField(
        choices=[c for c in EventKind.choices if c[0] != EventKind.TEST],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = NotificationChannel
        fields = ("owner", "name", "account", "events", "enabled")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        url = data.get("url")
        if self.instance.pk is None and not url:
            self.add_error("url", "a URL is required for a new channel")
        elif url:
            try:
                url_describe(url)
            except ValidationError as e:
                self.add_error("url", e.message_dict.get("url", e.messages))
        return data


@admin.register(NotificationChannel)
class NotificationChannelAdmin(OwnerScopedAdmin):
    owner_lookup = "owner"
    form = ChannelAdminForm
    list_display = ("name", "owner", "service", "url_hint", "account", "enabled", "state", "last_sent_at")
    list_filter = ("enabled", "service")
    search_fields = ("name", "owner__username")
    readonly_fields = ("service", "url_hint", "failures", "last_error", "last_error_at", "last_sent_at", "retry_at")
    actions = ["send_test"]

    @admin.display(description="state")
    def state(self, obj: NotificationChannel) -> str:
        if not obj.failing:
            return "ok"
        return f"FAILING ×{obj.failures}: {obj.last_error}"

    @method_decorator(sensitive_post_parameters("url"))
    def changeform_view(self, *args: Any, **kwargs: Any) -> Any:
        return super().changeform_view(*args, **kwargs)

    def save_model(self, request: HttpRequest, obj: NotificationChannel, form: Any, change: bool) -> None:
        data = form.cleaned_data
        fields = {
            "name": data["name"],
            "account": data["account"],
            "events": data["events"],
            "enabled": data["enabled"],
        }
        if change:
            saved = channel_update(obj, url=data.get("url") or None, **fields)
        else:
            saved = channel_create(owner=data["owner"], url=data["url"], **fields)
        obj.pk = saved.pk

    @admin.action(description="Send a test message")
    def send_test(self, request: HttpRequest, queryset: QuerySet[NotificationChannel]) -> None:
        for channel in queryset:
            note = channel_test(channel)
            if note.status == NotificationStatus.SENT:
                self.message_user(request, f"{channel.name}: test message sent", messages.SUCCESS)
            else:
                self.message_user(request, f"{channel.name}: failed: {note.last_error}", messages.ERROR)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, OwnerScopedAdmin):
    owner_lookup = "channel__owner"
    list_display = ("created_at", "channel", "kind", "title", "events", "status", "attempts", "last_error")
    list_filter = ("status", "kind")
    search_fields = ("title",)


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "kind", "severity", "account", "title")
    list_filter = ("kind", "severity")
    search_fields = ("title", "key")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)


@admin.register(Condition)
class ConditionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("key", "kind", "bad", "since", "detail", "checked_at")
    list_filter = ("kind", "bad")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)
