"""Bars: a read-only list filtered by instrument and timeframe, prices shown as decimals (stored as integer
points), plus the file import and the coverage pages.

``Bar``'s primary key is (instrument, timeframe, time). Django 5.2's admin refuses to register a model with a
composite key because its change, delete and history views and its actions address rows by one ``pk`` value.
The bar admin has none of those: it serves only the list and its own two pages, so it is put in the site's
registry by :func:`_register`, the one place that knows about the refusal.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from trading.bars.import_errors import READ_ERRORS, import_error_message
from trading.bars.importing import bars_import, upload_source
from trading.bars.validation import BarImportError
from trading.models import Bar, Instrument, Timeframe


class BarImportForm(forms.Form):
    file = forms.FileField()
    instrument = forms.ModelChoiceField(queryset=Instrument.objects.all(), to_field_name="symbol")
    timeframe = forms.TypedChoiceField(
        choices=[("", "detect")] + list(Timeframe.choices), coerce=int, empty_value=None, required=False
    )
    format = forms.ChoiceField(
        choices=[
            ("", "detect"),
            ("generic", "generic CSV"),
            ("metatrader", "MetaTrader"),
            ("histdata", "HistData"),
            ("dukascopy", "Dukascopy"),
            ("oanda", "OANDA JSON"),
        ],
        required=False,
    )
    on_error = forms.ChoiceField(
        choices=[("stop", "stop at the first error (nothing written)"), ("skip", "skip bad rows and report them")]
    )
    source_tz = forms.CharField(required=False, help_text="Broker clock of a MetaTrader export, e.g. UTC")


def _price(field: str) -> object:
    @admin.display(description=field, ordering=field)
    def show(self: admin.ModelAdmin, bar: Bar) -> Decimal:
        return bar.instrument.from_points(getattr(bar, field))

    show.__name__ = f"{field}_price"
    return show


class BarAdmin(admin.ModelAdmin):
    list_display = (
        "instrument",
        "timeframe",
        "time",
        "open_price",
        "high_price",
        "low_price",
        "close_price",
        "volume",
        "spread",
        "complete",
    )
    list_filter = ("instrument", "timeframe", "complete")
    list_select_related = ("instrument",)
    search_fields = ("instrument__symbol",)
    date_hierarchy = "time"
    show_full_result_count = False
    fields = (
        "instrument",
        "timeframe",
        "time",
        "open_price",
        "high_price",
        "low_price",
        "close_price",
        "volume",
        "spread",
        "complete",
    )
    readonly_fields = fields

    open_price = _price("open")
    high_price = _price("high")
    low_price = _price("low")
    close_price = _price("close")

    list_display_links = None  # no change page: rows are not addressed one by one
    actions = None

    # Bars come from files and the broker's history: listed, imported again to correct, never edited here.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Bar | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Bar | None = None) -> bool:
        return False

    change_list_template = "admin/trading/bar/change_list.html"

    def get_urls(self) -> list:
        extra = [
            path("import/", self.admin_site.admin_view(self.import_view), name="trading_bar_import"),
            path("coverage/", self.admin_site.admin_view(self.coverage_view), name="trading_bar_coverage"),
            path("", self.admin_site.admin_view(self.changelist_view), name="trading_bar_changelist"),
        ]
        return extra  # no add/change/delete/history views: they need a single-column primary key

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a file of bars (staff with the bar permission); the report lands in the messages."""
        if not request.user.has_perm("trading.delete_bar"):
            messages.error(request, "You may not import bars.")
            return HttpResponseRedirect(reverse("admin:trading_bar_changelist"))
        form = BarImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            options = {"source_tz": form.cleaned_data["source_tz"]} if form.cleaned_data["source_tz"] else {}
            try:
                report = bars_import(
                    source=upload_source(upload),
                    name=upload.name,
                    fmt=form.cleaned_data["format"] or None,
                    instrument=form.cleaned_data["instrument"],
                    timeframe=form.cleaned_data["timeframe"],
                    on_error=form.cleaned_data["on_error"],
                    **options,
                )
            except BarImportError as e:
                messages.error(request, f"{e.message} " + "; ".join(str(x) for x in e.errors[:20]))
            except READ_ERRORS as e:
                messages.error(request, import_error_message(e, upload.name))
            else:
                messages.success(request, report.summary())
                for error in report.errors[:20]:
                    messages.warning(request, str(error))
                return HttpResponseRedirect(reverse("admin:trading_bar_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": "Import bars",
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/trading/bar/import.html", context)

    def coverage_view(self, request: HttpRequest) -> HttpResponse:
        """First and last bar, count and gaps (weekends and holidays are not gaps) per instrument and timeframe."""
        from trading.bars.coverage import bars_coverage

        context = {
            **self.admin_site.each_context(request),
            "rows": bars_coverage(),
            "title": "Bar coverage",
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/trading/bar/coverage.html", context)


def _register(site: admin.AdminSite) -> None:
    """Register :class:`BarAdmin` as ``site.register`` would, minus its composite-key refusal (see the module
    docstring: the views that need a single-column key are not served)."""
    if Bar not in site._registry:
        site._registry[Bar] = BarAdmin(Bar, site)


_register(admin.site)
