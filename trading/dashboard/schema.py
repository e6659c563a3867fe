"""How the OpenAPI schema describes the dashboard's named API tokens (a scheme of their own, beside DRF's)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object


class NamedTokenScheme(OpenApiAuthenticationExtension):
    target_class = "trading.dashboard.tokens.NamedTokenAuthentication"
    name = "apiToken"
    priority = 1  # before drf-spectacular's own scheme for TokenAuthentication, which matches subclasses too

    def get_security_definition(self, auto_schema: Any) -> Any:
        scheme = build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")
        scheme["description"] = "A key made on the dashboard's API tokens page: `Token ast_…`"
        return scheme
