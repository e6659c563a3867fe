"""cTrader error codes mapped onto ``brokers.errors``: what the caller does with each answer.

The server answers a refused request with ``ProtoOAErrorRes`` (or ``ProtoErrorRes``), an order it refused
with ``ProtoOAOrderErrorEvent`` or an ``ORDER_REJECTED`` execution event; each carries an error code name
(``ProtoOAErrorCode``, ``ProtoErrorCode``, or a custom one). An error answer is a definite answer: the request
was not carried out, so it is never an unknown outcome; only silence (a lost connection, a timeout) is.
"""

from __future__ import annotations

from brokers.errors import (
    BrokerAuthError,
    BrokerError,
    BrokerNotFoundError,
    BrokerRateLimitError,
    BrokerRejectedError,
    BrokerTemporaryError,
    BrokerUnknownOutcomeError,
)


class TokenExpiredError(BrokerAuthError):
    """The access token expired or was invalidated: refresh it with the refresh token, then authorise again."""


class ApplicationRefusedError(BrokerAuthError):
    """The server refused the application's client id or secret: fix the platform's settings, not the account."""


class RateLimitedError(BrokerRateLimitError):
    """Throttled by the server; ``retry_after`` (seconds) when it said how long."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AccountNotAuthorizedError(BrokerTemporaryError):
    """The connection's session for the account is gone (a reconnect, a logout): authorise it again and retry."""


# Refresh the token and try again.
_TOKEN = frozenset({"OA_AUTH_TOKEN_EXPIRED", "CH_ACCESS_TOKEN_INVALID"})
# Credentials are wrong or revoked: tell the user, never retry.
_APPLICATION = frozenset({"CH_CLIENT_AUTH_FAILURE", "CH_OA_CLIENT_NOT_FOUND"})
_AUTH = frozenset({"CH_CLIENT_NOT_AUTHENTICATED", "NO_LOGIN"})
_NOT_FOUND = frozenset(
    {
        "CH_CTID_TRADER_ACCOUNT_NOT_FOUND",
        "ENTITY_NOT_FOUND",
        "POSITION_NOT_FOUND",
        "ORDER_NOT_FOUND",
        "SYMBOL_NOT_FOUND",
        "UNKNOWN_SYMBOL",
    }
)
_RATE = frozenset({"REQUEST_FREQUENCY_EXCEEDED", "BLOCKED_PAYLOAD_TYPE"})
# The server could not do it now; the same request may work later.
_TEMPORARY = frozenset(
    {
        "SERVER_IS_UNDER_MAINTENANCE",
        "CH_SERVER_NOT_REACHABLE",
        "CANT_ROUTE_REQUEST",
        "CONNECTIONS_LIMIT_EXCEEDED",
        "CONCURRENT_MODIFICATION",
        "TIMEOUT_ERROR",
        "UNKNOWN_ERROR",
        "NO_QUOTES",
    }
)


# An order request answered with these may still have reached the market.
_OUTCOME_UNKNOWN = frozenset({"TIMEOUT_ERROR", "UNKNOWN_ERROR"})


def error_for(
    code: str, description: str, *, where: str, retry_after: float | None = None, order: bool = False
) -> BrokerError:
    """The ``brokers.errors`` exception for one error answer of the server (never containing a token).

    ``order``: the request placed, closed or cancelled something; a timeout answer then leaves the outcome
    unknown (look it up), where for a read it is only temporary.
    """
    text = f"cTrader {where}: {code}" + (f": {description}" if description else "")
    if order and code in _OUTCOME_UNKNOWN:
        return BrokerUnknownOutcomeError(f"{text}; look it up before resending")
    if code in _TOKEN:
        return TokenExpiredError(text)
    if code == "ACCOUNT_NOT_AUTHORIZED":
        return AccountNotAuthorizedError(text)
    if code in _APPLICATION:
        return ApplicationRefusedError(text)
    if code in _AUTH:
        return BrokerAuthError(text)
    if code in _NOT_FOUND:
        return BrokerNotFoundError(text, reason=code)
    if code in _RATE:
        return RateLimitedError(text, retry_after=retry_after)
    if code in _TEMPORARY:
        return BrokerTemporaryError(text)
    return BrokerRejectedError(text, reason=code)
