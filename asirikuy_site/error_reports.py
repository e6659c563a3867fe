"""Error reports that never carry a secret: Django's filter, extended to every place a token can sit.

Django's SafeExceptionReporterFilter hides settings by name and only the POST fields and local variables a
view marks with ``sensitive_post_parameters`` / ``sensitive_variables``. A broker token also travels in JSON
bodies (``request.data``), in dicts held by local variables (``data``, ``validated_data``) and in headers
(``Authorization``), so this filter hides any key or variable whose name looks secret, at any depth.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.http import HttpRequest
from django.views.debug import SafeExceptionReporterFilter

SECRET_NAMES = re.compile(
    r"API|TOKEN|KEY|SECRET|PASS|SIGNATURE|COOKIE|AUTH|CREDENTIAL|SESSION|DATABASE_URL|_URL$", re.I
)


def _request_secrets(request: HttpRequest | None) -> set[str]:
    """Secret values the request carried (form fields, the Authorization header, JSON body fields)."""
    found: set[str] = set()
    if request is None:
        return found
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    found.update(part for part in (auth, auth.rpartition(" ")[2]) if len(part) >= 6)
    try:
        for key, value in request.POST.items():
            if isinstance(value, str) and SECRET_NAMES.search(str(key)) and len(value) >= 6:
                found.add(value)
        if "json" in request.META.get("CONTENT_TYPE", ""):
            _walk(json.loads(request.body or b"null"), found)
    except Exception:  # noqa: BLE001 - a body already read as a stream, or not JSON: keep what was found
        pass
    return found


def _walk(value: Any, found: set[str], key: str = "") -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _walk(v, found, str(k))
    elif isinstance(value, list):
        for item in value:
            _walk(item, found, key)
    elif isinstance(value, str) and SECRET_NAMES.search(key) and len(value) >= 6:
        found.add(value)


class ScrubbingExceptionReporterFilter(SafeExceptionReporterFilter):
    hidden_settings = SECRET_NAMES

    def get_post_parameters(self, request: HttpRequest | None) -> Any:
        params = super().get_post_parameters(request)
        if not params:
            return params
        params = params.copy()
        for key in list(params):
            if SECRET_NAMES.search(str(key)):
                params[key] = self.cleansed_substitute
        return params

    def get_traceback_frame_variables(self, request: HttpRequest | None, tb_frame: Any) -> Any:
        known = _request_secrets(request)
        cleaned = []
        for name, value in super().get_traceback_frame_variables(request, tb_frame):
            value = self.cleanse_setting(name, value)
            # A secret copied into any other value (a JSON string, a message, an object) hides that value too.
            if known and isinstance(value, str | bytes | dict | list | tuple):
                shown = repr(value)
                if any(secret in shown for secret in known):
                    value = self.cleansed_substitute
            cleaned.append((name, value))
        return cleaned

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        if isinstance(value, list | tuple) and not isinstance(key, int):
            return type(value)(self.cleanse_setting(index, item) for index, item in enumerate(value))
        return super().cleanse_setting(key, value)
