"""OpenAPI: every operation documents the error answers it can give, in the one error shape of this API.

drf-spectacular describes the success answers from each view's serializers; the errors come from the
shared exception handler (``trading.api.errors``), the permission checks and the throttles, so this hook
adds them to every operation: 400 (bad input, named by field), 401 (no credentials), 403 (a role that
does not allow the action), 404 (what does not exist for the caller), 413 (a body over the limit) and
429 (throttled).
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "message": {"type": "string", "description": "What was refused and why"},
        "extra": {
            "type": "object",
            "additionalProperties": True,
            "description": "Details: {'fields': {field: [reasons]}} for bad input, the quota for a quota",
        },
    },
    "required": ["message", "extra"],
}
ERRORS = {
    "400": "Bad input: each field at fault with the reason (or the quota exceeded)",
    "401": "No or bad credentials",
    "403": "Your role on the account does not allow this (or staff only)",
    "404": "Not found (the same answer for what exists but is not yours)",
    "413": "The request body is over the size limit",
    "429": "Too many requests: throttled",
}
METHODS = ("get", "post", "put", "patch", "delete")


def error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: add the ApiError component and the error answers."""
    result.setdefault("components", {}).setdefault("schemas", {})["ApiError"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/ApiError"}
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for code, text in ERRORS.items():
                if code == "413" and method in ("get", "delete"):
                    continue
                if code in ("403", "404") and path == "/api/schema/":
                    continue
                responses.setdefault(code, {"description": text, "content": {"application/json": {"schema": ref}}})
    return result
