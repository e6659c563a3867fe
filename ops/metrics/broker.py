"""Broker request latency and errors, observed at the HTTP session the domain hands to a broker client.

``brokers/`` imports nothing of Django; the venue passes ``broker_session("oanda")`` as the client's
``requests.Session``, so every request (retries included) is timed without touching the client's code.
"""

from __future__ import annotations

import re
import time
from typing import Any

import requests

_WORD = re.compile(r"^[a-z]{2,20}$")


def operation_of(path: str) -> str:
    """A bounded name for an endpoint: its fixed words (ids, symbols and client ids dropped), at most two.

    ``/v3/accounts/101-004-1-001/trades/42/close`` → ``trades.close``; ``/v3/instruments/EUR_USD/candles`` →
    ``instruments.candles``; ``/v3/accounts/101-…`` → ``accounts``.
    """
    words = [part for part in path.split("?", 1)[0].split("/") if _WORD.match(part)]
    if len(words) > 1 and words[0] == "accounts":
        words = words[1:]
    return ".".join(words[:2]) or "other"


class ObservedSession(requests.Session):
    """A requests session that times every request and counts the failed ones by status code."""

    def __init__(self, broker: str) -> None:
        super().__init__()
        self.broker = broker

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        from ops.metrics.registry import BROKER_ERRORS, BROKER_REQUEST

        operation = operation_of(request.path_url or "")
        started = time.perf_counter()
        try:
            response = super().send(request, **kwargs)
        except requests.Timeout:
            BROKER_ERRORS.labels(self.broker, operation, "timeout").inc()
            raise
        except requests.ConnectionError:
            BROKER_ERRORS.labels(self.broker, operation, "connection").inc()
            raise
        finally:
            BROKER_REQUEST.labels(self.broker, operation).observe(time.perf_counter() - started)
        if response.status_code >= 400:
            BROKER_ERRORS.labels(self.broker, operation, str(response.status_code)).inc()
        return response


def broker_session(broker: str) -> requests.Session:
    """The session a venue gives its broker client."""
    return ObservedSession(broker)
