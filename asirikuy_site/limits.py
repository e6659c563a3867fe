"""Request limits, applied before any view reads the request: body size, and no NUL character in the URL.

DRF's JSON parser reads the request stream directly, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE (which only
guards ``request.body`` and form fields) never applied to it: a 100 MB JSON body was read whole. This
middleware refuses by the declared Content-Length: multipart uploads (bar files) up to
ASIRIKUY_MAX_UPLOAD_BYTES, every other body up to ASIRIKUY_MAX_REQUEST_BYTES. Django reads no more than
the declared length, so a body without one is read as empty.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


class RequestSizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw)
        except ValueError:
            return _refuse(request, 400, f"Content-Length {raw[:20]!r} is not a number", None)
        multipart = request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data")
        limit, name = (
            (settings.UPLOAD_MAX_BYTES, "ASIRIKUY_MAX_UPLOAD_BYTES")
            if multipart
            else (settings.DATA_UPLOAD_MAX_MEMORY_SIZE, "ASIRIKUY_MAX_REQUEST_BYTES")
        )
        if length > limit:
            return _refuse(
                request, 413, f"request body of {length} bytes is over the limit of {limit} bytes ({name})", limit
            )
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()
        ):
            # PostgreSQL refuses NUL in text: a lookup with one would be an error, not "no match".
            return _refuse(request, 400, "the URL contains a NUL character (%00)", None)
        return self.get_response(request)


def _refuse(request: HttpRequest, status: int, message: str, limit: int | None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"message": message, "extra": {"limit": limit} if limit else {}}, status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
