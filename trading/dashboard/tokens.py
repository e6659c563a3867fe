"""API tokens made on the dashboard: create (the key shown once), revoke, and the DRF authentication class.

Keys start with ``ast_`` so this class answers only for its own keys; any other ``Token`` key is left to DRF's
own TokenAuthentication (listed after this one in REST_FRAMEWORK).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.request import Request

from trading.dashboard.models import ApiToken

PREFIX = "ast_"
MAX_ACTIVE = 20
# last_used_at is written at most this often per token (not on every request).
USED_RESOLUTION = timedelta(minutes=1)


def _hash(key: str) -> str:
    # Keys carry 256 random bits: a plain SHA-256 cannot be searched back to a key.
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user: Any, name: str) -> tuple[ApiToken, str]:
    """Create a token named ``name`` for ``user``; returns it and its key (never stored, never shown again)."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["give the token a name"]})
    active = ApiToken.objects.select_for_update().filter(user=user, revoked_at__isnull=True)
    if active.filter(name=name).exists():
        raise ValidationError({"name": [f"you already have an active token named {name!r}"]})
    if active.count() >= MAX_ACTIVE:
        raise ValidationError({"name": [f"at most {MAX_ACTIVE} active tokens; revoke one first"]})
    key = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, key_hash=_hash(key), prefix=key[:10])
    return token, key


def api_token_revoke(*, user: Any, token_id: int) -> ApiToken | None:
    """Revoke one of ``user``'s tokens (None: no such active token of theirs)."""
    token = ApiToken.objects.filter(user=user, pk=token_id, revoked_at__isnull=True).first()
    if token is None:
        return None
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db()
    return token


class NamedTokenAuthentication(TokenAuthentication):
    """``Authorization: Token ast_…``: a dashboard-made key; revoked keys and inactive users are refused."""

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        auth = request.META.get("HTTP_AUTHORIZATION", "").split()
        if len(auth) != 2 or auth[0].lower() != self.keyword.lower() or not auth[1].startswith(PREFIX):
            return None
        return self.authenticate_credentials(auth[1])

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiToken]:
        token = ApiToken.objects.select_related("user").filter(key_hash=_hash(key), revoked_at__isnull=True).first()
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token
