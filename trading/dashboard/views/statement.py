"""The account statement: HTML page, CSV download and PDF download of one period."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from trading.dashboard.display import statistics_table
from trading.dashboard.forms.trading import StatementForm
from trading.dashboard.statement import SHOWN_TRADES, open_pl, statement_build, statement_csv
from trading.dashboard.statement_pdf import statement_pdf
from trading.permissions import account_get

FORMATS = ("html", "csv", "pdf")


@login_required
@require_GET
def statement_view(request: HttpRequest, account_id: int, fmt: str = "html") -> HttpResponseBase:
    """``?start=YYYY-MM-DD&end=YYYY-MM-DD`` (default: the last 30 days)."""
    account = account_get(request.user, account_id)
    today = timezone.now().date()
    data = request.GET if "start" in request.GET or "end" in request.GET else None
    form = StatementForm(data or {"start": today - timedelta(days=30), "end": today})
    if fmt not in FORMATS or not form.is_valid():
        status = 404 if fmt not in FORMATS else 400
        return render(request, "dashboard/statement.html", {"account": account, "form": form}, status=status)
    start, end = form.period()
    statement = statement_build(account=account, start=start, end=end)
    name = f"statement-{account.pk}-{start:%Y%m%d}-{form.cleaned_data['end']:%Y%m%d}"
    if fmt == "csv":
        stream = StreamingHttpResponse(statement_csv(statement), content_type="text/csv; charset=utf-8")
        stream["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return stream
    if fmt == "pdf":
        pdf = HttpResponse(statement_pdf(statement), content_type="application/pdf")
        pdf["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
        return pdf
    context = {
        "account": account,
        "form": form,
        "statement": statement,
        "closed": statement.closed[:SHOWN_TRADES],
        "shown": SHOWN_TRADES,
        "open_pl": open_pl(statement),
        "statistics": statistics_table(statement.statistics, account.currency),
        "query": f"start={start:%Y-%m-%d}&end={form.cleaned_data['end']:%Y-%m-%d}",
    }
    return render(request, "dashboard/statement.html", context)
