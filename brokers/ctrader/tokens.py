"""OAuth tokens of a cTrader ID: the pair an account is authorised with, and the documented ways to get one.

Spotware's "App and account authentication": an access token lives 2,628,000 s (about 30 days); a refresh token
has no expiry but is spent when used, so the new pair must be stored at once. A user grants access in a
browser (the grant page, ``authorize_url``); the one-minute code it redirects with is exchanged over HTTPS
(``exchange_code``). The Open API connection refreshes a pair itself (``ProtoOARefreshTokenReq``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests

from brokers.errors import BrokerAuthError, BrokerProtocolError, BrokerTemporaryError

# Reference: https://help.ctrader.com/open-api/account-authentication/
AUTHORIZE_URL = "https://id.ctrader.com/my/settings/openapi/grantingaccess/"
TOKEN_URL = "https://openapi.ctrader.com/apps/token"
REFRESH_MARGIN = timedelta(days=1)  # refresh this long before the access token expires


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str = ""
    expires_at: datetime | None = None

    def __repr__(self) -> str:  # never print a token
        return f"TokenSet(access=…{self.access_token[-4:]}, refresh={'yes' if self.refresh_token else 'no'})"

    def expiring(self, now: datetime | None = None) -> bool:
        """True when the access token expires within REFRESH_MARGIN (and can be refreshed)."""
        if self.expires_at is None or not self.refresh_token:
            return False
        return self.expires_at - (now or datetime.now(UTC)) < REFRESH_MARGIN

    @classmethod
    def issued(cls, *, access_token: str, refresh_token: str, expires_in: int, now: datetime | None = None) -> TokenSet:
        return cls(access_token, refresh_token, (now or datetime.now(UTC)) + timedelta(seconds=int(expires_in)))


def authorize_url(*, client_id: str, redirect_uri: str, scope: str = "trading", base: str = AUTHORIZE_URL) -> str:
    """The page where a user grants the application access to their trading accounts."""
    return f"{base}?{urlencode({'client_id': client_id, 'redirect_uri': redirect_uri, 'scope': scope})}"


def exchange_code(
    *,
    code: str,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    url: str = TOKEN_URL,
    timeout: float = 15.0,
) -> TokenSet:
    """Exchange the code of a grant (valid one minute) for a token pair."""
    params = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    try:
        response = requests.get(url, params=params, timeout=timeout, headers={"Accept": "application/json"})
    except requests.RequestException as e:
        raise BrokerTemporaryError(f"cTrader token endpoint unreachable: {type(e).__name__}") from None
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        raise BrokerProtocolError(f"cTrader token endpoint answered {response.status_code} without JSON") from None
    if response.status_code >= 500:
        raise BrokerTemporaryError(f"cTrader token endpoint answered {response.status_code}")
    access = body.get("accessToken") or body.get("access_token")
    if response.status_code >= 400 or not access:
        reason = body.get("description") or body.get("errorCode") or body.get("error") or response.status_code
        raise BrokerAuthError(f"cTrader refused the code: {reason}")
    return TokenSet.issued(
        access_token=str(access),
        refresh_token=str(body.get("refreshToken") or body.get("refresh_token") or ""),
        expires_in=int(body.get("expiresIn") or body.get("expires_in") or 2_628_000),
    )
