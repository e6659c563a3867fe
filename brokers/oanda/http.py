"""The one place HTTP is sent to OANDA: auth, timeouts, pacing, logging, retries and error mapping."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

from brokers.errors import (
    BrokerAuthError,
    BrokerError,
    BrokerNotFoundError,
    BrokerProtocolError,
    BrokerRateLimitError,
    BrokerRejectedError,
    BrokerTemporaryError,
    BrokerUnknownOutcomeError,
)
from brokers.oanda.pacing import Pacer, default_pacer
from brokers.oanda.pool import PacedAdapter

logger = logging.getLogger("brokers.oanda.http")

USER_AGENT = "asirikuy-trader/0.1 (+requests)"

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, for temporary errors only."""

    max_retries: int = 3
    base_delay: float = 0.25
    max_delay: float = 8.0
    # OANDA counts requests per second: after a 429, come back in the next window, not in 125 ms.
    rate_limit_base_delay: float = 1.0

    def delay(self, attempt: int, retry_after: float | None = None, *, rate_limited: bool = False) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay * 4)
        base = self.rate_limit_base_delay if rate_limited else self.base_delay
        cap: float = min(self.max_delay, base * (2 ** (attempt - 1)))
        return cap / 2 + random.uniform(0, cap / 2)  # noqa: S311 - jitter, not crypto


@dataclass(frozen=True)
class Response:
    """A parsed 2xx answer."""

    status: int
    body: JsonDict
    headers: Mapping[str, str]


class OandaHttp:
    """Session + chokepoint. Never logs, formats or raises anything that contains the token.

    Every request reserves a slot from ``pacer`` (default: the process's shared pacer) before it is
    sent, and every new TCP connection reserves one too (see ``pool``); the pool keeps at most
    ``pool_size`` keep-alive connections and makes further threads wait for one.
    """

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        timeout: tuple[float, float] = (5.0, 15.0),
        max_retries: int = 3,
        pacer: Pacer | None = None,
        pool_size: int = 10,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        datetime_format: str = "RFC3339",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout
        self.retry = RetryPolicy(max_retries=max_retries)
        self._sleep = sleep
        self.pacer: Pacer = pacer if pacer is not None else default_pacer()
        self.pool_size = pool_size
        self.session = session or requests.Session()
        adapter = PacedAdapter(pacer=self.pacer, sleep=sleep, pool_size=pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept-Datetime-Format": datetime_format,
            "Accept-Encoding": "gzip, deflate",
            "User-Agent": USER_AGENT,
            "OANDA-Agent": USER_AGENT,
        }

    def __repr__(self) -> str:
        return f"OandaHttp(base_url={self.base_url!r})"

    def close(self) -> None:
        self.session.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: JsonDict | None = None,
        idempotent: bool | None = None,
    ) -> Response:
        """Send one request and return its parsed 2xx body, or raise a ``brokers.errors`` exception.

        ``idempotent`` defaults to True for GET only. Idempotent requests are retried on temporary
        errors; others only when the connection failed before anything was sent, and otherwise raise
        BrokerUnknownOutcomeError.
        """
        if idempotent is None:
            idempotent = method == "GET"
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._send_once(method, path, params=params, body=body, idempotent=idempotent)
            except BrokerTemporaryError as e:
                if attempt > self.retry.max_retries:
                    raise
                retry_after = e.retry_after if isinstance(e, _RetryAfter) else None
                delay = self.retry.delay(attempt, retry_after, rate_limited=isinstance(e, BrokerRateLimitError))
                logger.info("OANDA %s %s retry %d in %.2fs after: %s", method, path, attempt, delay, e)
                self._sleep(delay)

    def _send_once(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None,
        body: JsonDict | None,
        idempotent: bool,
    ) -> Response:
        wait = self.pacer.reserve_request()
        if wait > 0:
            self._sleep(wait)
        url = f"{self.base_url}{path}"
        started = time.perf_counter()
        try:
            resp = self.session.request(
                method,
                url,
                params=params,
                data=json.dumps(body) if body is not None else None,
                headers=self._headers,
                timeout=self.timeout,
            )
        except requests.RequestException as e:
            ms = (time.perf_counter() - started) * 1000
            raise self._map_transport_error(e, method, path, ms, idempotent) from None
        ms = (time.perf_counter() - started) * 1000
        logger.info(
            "OANDA %s %s -> %d in %.1f ms (request id %s)",
            method,
            path,
            resp.status_code,
            ms,
            resp.headers.get("RequestID", "-"),
        )
        return self._map_response(resp, method, path, idempotent)

    def _map_transport_error(
        self, e: requests.RequestException, method: str, path: str, ms: float, idempotent: bool
    ) -> BrokerError:
        kind = type(e).__name__
        logger.warning("OANDA %s %s failed after %.1f ms: %s", method, path, ms, kind)
        if _failed_before_sending(e):
            return BrokerTemporaryError(f"OANDA {method} {path}: could not connect ({kind})")
        if idempotent:
            return BrokerTemporaryError(f"OANDA {method} {path}: no answer ({kind})")
        return BrokerUnknownOutcomeError(
            f"OANDA {method} {path}: request sent but no answer ({kind}); look it up before resending"
        )

    def _map_response(self, resp: requests.Response, method: str, path: str, idempotent: bool) -> Response:
        status = resp.status_code
        body = _decode(resp, method, path, strict=200 <= status < 300)
        if 200 <= status < 300:
            return Response(status=status, body=body, headers=resp.headers)
        code = str(body.get("errorCode") or "")
        message = str(body.get("errorMessage") or resp.reason or "")
        where = f"OANDA {method} {path} -> {status}"
        if status in (401, 403):
            raise BrokerAuthError(f"{where}: {message}")
        if status == 404:
            raise BrokerNotFoundError(f"{where}: {message}", reason=code or "NOT_FOUND", **_txn(body))
        if status == 429:
            raise _RateLimited(f"{where}: rate limited", retry_after=_retry_after(resp))
        if status >= 500:
            if idempotent:
                raise BrokerTemporaryError(f"{where}: {message}")
            raise BrokerUnknownOutcomeError(f"{where}: {message}; the request may have been executed")
        reason = code or _reject_reason(body) or "BAD_REQUEST"
        raise BrokerRejectedError(f"{where}: {reason}: {message}", reason=reason, **_txn(body))


class _RetryAfter:
    retry_after: float | None = None


class _RateLimited(BrokerRateLimitError, _RetryAfter):
    def __init__(self, message: str, *, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _failed_before_sending(e: requests.RequestException) -> bool:
    if isinstance(e, requests.ConnectTimeout):
        return True
    if isinstance(e, requests.ConnectionError) and not isinstance(e, requests.ReadTimeout):
        reason = getattr(e.args[0], "reason", None) if e.args else None
        return isinstance(reason, NewConnectionError)
    return False


def _decode(resp: requests.Response, method: str, path: str, *, strict: bool) -> JsonDict:
    try:
        data = json.loads(resp.content or b"{}")
    except ValueError as e:
        if strict:
            raise BrokerProtocolError(f"OANDA {method} {path} -> {resp.status_code}: malformed JSON") from e
        return {}
    if not isinstance(data, dict):
        if strict:
            raise BrokerProtocolError(f"OANDA {method} {path} -> {resp.status_code}: JSON is not an object")
        return {}
    return data


def _retry_after(resp: requests.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _reject_reason(body: JsonDict) -> str:
    for key, value in body.items():
        if key.endswith("RejectTransaction") and isinstance(value, dict):
            return str(value.get("rejectReason") or value.get("reason") or "")
    return ""


def _txn(body: JsonDict) -> dict[str, str]:
    for key, value in body.items():
        if key.endswith("RejectTransaction") and isinstance(value, dict) and value.get("id"):
            return {"transaction_id": str(value["id"])}
    return {"transaction_id": str(body.get("lastTransactionID") or "")}
