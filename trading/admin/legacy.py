"""Legacy portfolios in the admin: the upload page (dry run, then import), the imports made, each foreign
strategy's settings (rates requirements, TIMEFRAME; UI values and heartbeat shown) and its .set export."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from trading.admin.base import OwnerScopedAdmin, ReadOnlyAdminMixin, staff_user
from trading.exceptions import ApplicationError
from trading.legacy.apply import legacy_import_apply
from trading.legacy.export import legacy_export_set
from trading.legacy.plan import ImportOptions, legacy_import_plan, library_summary
from trading.legacy.source import LegacySourceError, source_from_upload
from trading.management.commands.legacy_import import parse_assign
from trading.models import BrokerAccount, LegacyImport, LegacyInstanceConfig


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


class LegacyUploadForm(forms.Form):
    uploads = MultipleFileField(help_text="atrader.config and its .set presets, or one .zip of the folder")
    account = forms.ModelChoiceField(
        queryset=BrokerAccount.objects.none(),
        required=False,
        help_text="Import into this account; empty: create the account [account] describes",
    )
    skip = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, help_text="One per line: file:line, or a section"
    )
    assign = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="One per line: SECTION=NUMBER or SECTION=auto (magic numbers)",
    )
    enable = forms.BooleanField(required=False, help_text="Create the instances enabled")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        account = self.fields["account"]
        assert isinstance(account, forms.ModelChoiceField)  # declared above
        account.queryset = BrokerAccount.objects.filter(owner=user)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


@admin.register(LegacyImport)
class LegacyImportAdmin(ReadOnlyAdminMixin, OwnerScopedAdmin):
    owner_lookup = "owner"
    list_display = ("id", "created_at", "owner", "account", "source", "config_name", "instance_count")
    readonly_fields = ("owner", "account", "source", "config_name", "config_text", "files", "report", "created_at")
    change_list_template = "admin/trading/legacyimport/change_list.html"

    @admin.display(description="Instances")
    def instance_count(self, obj: LegacyImport) -> int:
        return len((obj.report or {}).get("instances", []))

    def get_urls(self) -> list[Any]:
        extra = [path("upload/", self.admin_site.admin_view(self.upload_view), name="trading_legacyimport_upload")]
        return extra + super().get_urls()

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a legacy folder: every POST shows the dry run; "Import" writes it when nothing is left."""
        if not request.user.has_perm("trading.add_strategyinstance"):
            messages.error(request, "You may not create strategy instances.")
            return HttpResponseRedirect(reverse("admin:trading_legacyimport_changelist"))
        form = LegacyUploadForm(request.POST or None, request.FILES or None, user=request.user)
        plan_json = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                source = source_from_upload([(f.name, f.read()) for f in data["uploads"]])
                options = ImportOptions(
                    owner=staff_user(request),
                    account=data["account"],
                    skip=frozenset(_lines(data["skip"])),
                    assign=parse_assign(_lines(data["assign"])),
                    enable=data["enable"],
                    source="admin",
                )
            except (LegacySourceError, ValueError) as e:
                messages.error(request, str(e))
            else:
                plan = legacy_import_plan(source, options)
                plan_json = plan.as_json()
                if "import" in request.POST and plan.valid:
                    try:
                        record = legacy_import_apply(plan, options)
                    except ApplicationError as e:  # not valid, or a quota: nothing was written
                        messages.error(request, e.message)
                    except ValidationError as e:  # e.g. OANDA refused the account's token: nothing was written
                        messages.error(request, "; ".join(e.messages))
                    else:
                        ids = ", ".join(str(i["instance_id"]) for i in record.report["instances"])
                        messages.success(request, f"Imported: account {record.account_id}, instances {ids}.")
                        return HttpResponseRedirect(reverse("admin:trading_legacyimport_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "plan": plan_json,
            "library": plan_json["library"] if plan_json else library_summary(),
            "title": "Import an asirikuy-trader folder",
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/trading/legacyimport/upload.html", context)


def _ui_table(obj: LegacyInstanceConfig) -> str:
    rows = obj.ui_values or []
    if not rows:
        return "-"
    return format_html(
        "<table>{}</table>", format_html_join("", "<tr><td>{}</td><td>{}</td></tr>", ((n, v) for n, v in rows))
    )


@admin.register(LegacyInstanceConfig)
class LegacyInstanceConfigAdmin(OwnerScopedAdmin):
    owner_lookup = "instance__account__owner"
    list_display = ("instance", "strategy_timeframe", "ref_broker_name", "heartbeat", "heartbeat_at", "library_version")
    list_select_related = ("instance",)
    fields = (
        "instance",
        "strategy_timeframe",
        "rates_requirements",
        "ref_broker_name",
        "optimization_space",
        "ui",
        "heartbeat",
        "heartbeat_at",
        "files_read_at",
        "library_version",
        "set_file_name",
        "source_import",
        "export_link",
    )
    readonly_fields = (
        "ui",
        "heartbeat",
        "heartbeat_at",
        "files_read_at",
        "library_version",
        "set_file_name",
        "source_import",
        "export_link",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is None else ("instance", *self.readonly_fields)

    @admin.display(description="UI values (<id>.ui)")
    def ui(self, obj: LegacyInstanceConfig) -> str:
        return _ui_table(obj)

    @admin.display(description="Preset")
    def export_link(self, obj: LegacyInstanceConfig) -> str:
        if obj.pk is None:
            return "-"
        url = reverse("admin:trading_legacyinstanceconfig_export", args=[obj.pk])
        return format_html('<a href="{}">Export .set</a>', url)

    def get_urls(self) -> list[Any]:
        extra = [
            path(
                "<int:pk>/export/",
                self.admin_site.admin_view(self.export_view),
                name="trading_legacyinstanceconfig_export",
            )
        ]
        return extra + super().get_urls()

    def export_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        config = (
            self.get_queryset(request).select_related("instance__instrument", "instance__account").filter(pk=pk).first()
        )
        if config is None:
            return HttpResponse(status=404)
        try:
            name, data = legacy_export_set(config.instance)
        except ApplicationError as e:
            messages.error(request, e.message)
            return HttpResponseRedirect(reverse("admin:trading_legacyinstanceconfig_changelist"))
        response = HttpResponse(data, content_type="application/octet-stream")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class LegacyInstanceConfigInline(admin.StackedInline):
    """On the instance page: what the foreign library shows (its UI values and heartbeat) and its requirements."""

    model = LegacyInstanceConfig
    verbose_name = verbose_name_plural = "Foreign library (legacy strategy)"
    fields = ("strategy_timeframe", "rates_requirements", "ref_broker_name", "ui", "heartbeat", "heartbeat_at")
    readonly_fields = fields
    can_delete = False
    show_change_link = True
    extra = 0
    max_num = 0

    @admin.display(description="UI values (<id>.ui)")
    def ui(self, obj: LegacyInstanceConfig) -> str:
        return _ui_table(obj)

    def get_queryset(self, request: HttpRequest) -> Any:
        # the parent page (owner-scoped) decides who sees it; the formset shows only that instance's row
        return LegacyInstanceConfig.objects.all()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # only on the page of an instance that has foreign-library settings (never on the add page)
        present = obj is not None and LegacyInstanceConfig.objects.filter(pk=obj.pk).exists()
        return present and super().has_view_permission(request, obj)
