"""Bad input on a dashboard form: a 400 page naming the field and the reason (never a traceback)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def bad_request(request: HttpRequest, *, field: str, reason: str) -> HttpResponse:
    """Answer 400 with a page that names ``field`` and why its value was refused."""
    return render(request, "dashboard/bad_request.html", {"field": field, "reason": reason}, status=400)
