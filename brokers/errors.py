"""Broker errors. Each docstring says what the caller should do."""

from __future__ import annotations


class BrokerError(Exception):
    """Base class; never raised itself."""


class BrokerAuthError(BrokerError):
    """Token or account id refused (401/403). Stop using the account and tell the user; never retry."""


class BrokerRejectedError(BrokerError):
    """The broker refused the request (400/422, or a 201 carrying a cancel). Permanent: record the reason."""

    def __init__(self, message: str, *, reason: str = "", transaction_id: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.transaction_id = transaction_id


class BrokerNotFoundError(BrokerRejectedError):
    """The account, order or trade does not exist at the broker (404)."""


class BrokerTemporaryError(BrokerError):
    """Server error or connection failure before the request reached the broker. Safe to retry later."""


class BrokerRateLimitError(BrokerTemporaryError):
    """Throttled (429). Back off, then retry."""


class BrokerUnknownOutcomeError(BrokerError):
    """The request may have been executed (timeout or lost answer after sending).

    Never resend blindly: look the order up by its client id first.
    """


class BrokerProtocolError(BrokerError):
    """The broker answered something we cannot parse (malformed JSON, missing fields)."""
