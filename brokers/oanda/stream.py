"""OANDA pricing stream consumer: newline-delimited JSON over chunked HTTP, supervised.

``PriceStream.run()`` keeps one connection open, buffers partial lines, writes each PRICE to a sink,
treats more than ``heartbeat_timeout`` seconds without a HEARTBEAT (or without any bytes) as a stall,
and reconnects with exponential backoff and jitter. ``health`` says how it is doing. The platform runs
it in its own process (a management command or a supervised worker) with a ``RedisPriceSink``;
readers call ``read_cached_price``, a single HGETALL.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

import requests

from brokers.base import Quote
from brokers.errors import BrokerAuthError, BrokerProtocolError
from brokers.oanda import parse
from brokers.oanda.http import USER_AGENT
from brokers.oanda.pacing import Pacer, default_pacer
from brokers.oanda.symbols import to_broker_symbol
from brokers.oanda.timefmt import parse_time

logger = logging.getLogger("brokers.oanda.stream")

PRICE_KEY_PREFIX = "asirikuy:price:"
HEALTH_KEY = "asirikuy:pricestream:health"


class PriceSink(Protocol):
    """Where the stream puts prices and its health."""

    def write(self, quote: Quote) -> None: ...

    def write_health(self, health: dict[str, str]) -> None: ...


@dataclass(frozen=True)
class StreamHealth:
    """A snapshot of the consumer's state. Times are wall-clock UTC."""

    state: str = "stopped"  # connecting | streaming | backoff | stopped | failed
    connects: int = 0
    reconnects: int = 0
    stalls: int = 0
    prices: int = 0
    heartbeats: int = 0
    malformed_lines: int = 0
    partial_lines_dropped: int = 0
    connected_since: datetime | None = None
    last_message_at: datetime | None = None
    last_heartbeat_at: datetime | None = None
    last_error: str = ""

    def is_healthy(self, *, now: datetime | None = None, max_silence: float = 10.0) -> bool:
        """Streaming and heard from within ``max_silence`` seconds."""
        if self.state != "streaming" or self.last_message_at is None:
            return False
        now = now or datetime.now(UTC)
        return (now - self.last_message_at).total_seconds() <= max_silence

    def as_dict(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in asdict(self).items():
            out[key] = value.isoformat() if isinstance(value, datetime) else ("" if value is None else str(value))
        return out


class MemoryPriceSink:
    """Keeps the latest quote per symbol in memory (tests, single-process use)."""

    def __init__(self) -> None:
        self.latest: dict[str, Quote] = {}
        self.count = 0
        self.health: dict[str, str] = {}
        self._lock = threading.Lock()

    def write(self, quote: Quote) -> None:
        with self._lock:
            self.latest[quote.symbol] = quote
            self.count += 1

    def write_health(self, health: dict[str, str]) -> None:
        with self._lock:
            self.health = dict(health)


class RedisPriceSink:
    """One Redis hash per symbol (``asirikuy:price:EURUSD`` -> bid, ask, time, tradeable)."""

    def __init__(
        self,
        redis_client: Any = None,
        *,
        url: str | None = None,
        prefix: str = PRICE_KEY_PREFIX,
        health_key: str = HEALTH_KEY,
    ) -> None:
        if redis_client is None:
            if url is None:
                raise ValueError("pass a redis client or a redis URL")
            import redis

            redis_client = redis.Redis.from_url(url)
        self.redis = redis_client
        self.prefix = prefix
        self.health_key = health_key

    def write(self, quote: Quote) -> None:
        self.redis.hset(
            f"{self.prefix}{quote.symbol}",
            mapping={
                "bid": str(quote.bid),
                "ask": str(quote.ask),
                "time": quote.time.isoformat(),
                "tradeable": "1" if quote.tradeable else "0",
            },
        )

    def write_health(self, health: dict[str, str]) -> None:
        self.redis.hset(self.health_key, mapping=health)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def read_cached_price(redis_client: Any, symbol: str, *, prefix: str = PRICE_KEY_PREFIX) -> Quote | None:
    """The latest streamed quote for a platform symbol, or None. One HGETALL round trip."""
    raw = redis_client.hgetall(f"{prefix}{symbol}")
    if not raw:
        return None
    data = {_text(k): _text(v) for k, v in raw.items()}
    return Quote(
        symbol=symbol,
        bid=Decimal(data["bid"]),
        ask=Decimal(data["ask"]),
        time=datetime.fromisoformat(data["time"]),
        tradeable=data.get("tradeable", "1") == "1",
    )


def read_stream_health(redis_client: Any, *, key: str = HEALTH_KEY) -> dict[str, str]:
    """What the stream last reported about itself (empty if it never ran)."""
    return {_text(k): _text(v) for k, v in (redis_client.hgetall(key) or {}).items()}


class _Stalled(Exception):  # noqa: N818 - internal signal
    pass


class PriceStream:
    """Supervised consumer of ``/v3/accounts/{id}/pricing/stream``. Call ``run()`` in its own thread or
    process; ``stop()`` from anywhere."""

    def __init__(
        self,
        *,
        stream_url: str,
        token: str,
        account_id: str,
        symbols: Iterable[str],
        sink: PriceSink,
        heartbeat_timeout: float = 10.0,
        connect_timeout: float = 5.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        max_line_bytes: int = 1 << 20,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        pacer: Pacer | None = None,
    ) -> None:
        """``pacer``: reserves every (re)connection from the host's budget (default: this process's)."""
        self.url = f"{stream_url.rstrip('/')}/v3/accounts/{account_id}/pricing/stream"
        self.instruments = sorted({to_broker_symbol(s) for s in symbols})
        if not self.instruments:
            raise ValueError("no symbols to stream")
        self.sink = sink
        self.heartbeat_timeout = heartbeat_timeout
        self.connect_timeout = connect_timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.max_line_bytes = max_line_bytes
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Accept-Datetime-Format": "RFC3339",
            "User-Agent": USER_AGENT,
        }
        self._session = session or requests.Session()
        self._clock = clock
        self._pacer: Pacer = pacer if pacer is not None else default_pacer()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._health = StreamHealth()
        self._response: requests.Response | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"PriceStream(url={self.url!r}, instruments={self.instruments!r})"

    @property
    def health(self) -> StreamHealth:
        with self._lock:
            return self._health

    def _update(self, report: bool = False, **changes: Any) -> None:
        with self._lock:
            self._health = replace(self._health, **changes)
            snapshot = self._health
        if report:
            try:
                self.sink.write_health(snapshot.as_dict())
            except Exception as e:  # noqa: BLE001 - a sink outage must not kill the stream
                logger.warning("price stream: could not report health: %s", type(e).__name__)

    def _bump(self, field: str, report: bool = False, **changes: Any) -> None:
        with self._lock:
            current = getattr(self._health, field)
        self._update(report, **{field: current + 1}, **changes)

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> threading.Thread:
        """Run in a daemon thread."""
        self._thread = threading.Thread(target=self.run, name="oanda-price-stream", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        resp = self._response
        if resp is not None:
            try:
                resp.close()
            except Exception:  # noqa: BLE001 - closing from another thread may race the reader
                pass
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def run(self, *, max_connections: int | None = None) -> None:
        """Connect, consume and reconnect until ``stop()`` (or ``max_connections`` attempts)."""
        failures = 0
        attempts = 0
        try:
            while not self._stop.is_set():
                if max_connections is not None and attempts >= max_connections:
                    break
                attempts += 1
                got_data = False
                try:
                    got_data = self._consume_once()
                except BrokerAuthError as e:
                    self._update(True, state="failed", last_error=str(e))
                    raise
                except _Stalled as e:
                    self._bump("stalls", True, last_error=str(e))
                    logger.warning("price stream stalled: %s; reconnecting", e)
                except Exception as e:  # noqa: BLE001 - a supervisor loop: anything else means reconnect
                    if self._stop.is_set():
                        break  # stop() closed the response under the reader
                    self._update(True, last_error=f"{type(e).__name__}")
                    logger.warning("price stream connection lost: %s; reconnecting", type(e).__name__)
                failures = 0 if got_data else failures + 1
                if self._stop.is_set():
                    break
                delay = self._backoff(max(failures, 1))
                self._update(True, state="backoff")
                if self._stop.wait(delay):
                    break
                self._bump("reconnects")
        finally:
            self._response = None
            if self.health.state != "failed":
                self._update(True, state="stopped")

    def _backoff(self, failures: int) -> float:
        cap: float = min(self.backoff_max, self.backoff_initial * (2 ** (failures - 1)))
        return cap / 2 + random.uniform(0, cap / 2)  # noqa: S311 - jitter

    # -- one connection -------------------------------------------------------------------------

    def _consume_once(self) -> bool:
        """Read one connection until it ends, stalls or ``stop()``. True if any message arrived."""
        self._bump("connects", True, state="connecting")
        if self._stop.wait(max(0.0, self._pacer.reserve_connection())):
            return False  # stopped while waiting for a connection slot
        params = {"instruments": ",".join(self.instruments), "snapshot": "true"}
        resp = self._session.get(
            self.url,
            params=params,
            headers=self._headers,
            stream=True,
            timeout=(self.connect_timeout, self.heartbeat_timeout),
        )
        self._response = resp
        try:
            if resp.status_code in (401, 403):
                raise BrokerAuthError(f"pricing stream refused the token ({resp.status_code})")
            if resp.status_code != 200:
                raise requests.HTTPError(f"pricing stream answered {resp.status_code}")
            now = datetime.now(UTC)
            self._update(True, state="streaming", connected_since=now)
            last_beat = self._clock()
            got_data = False
            buf = b""
            try:
                for chunk in resp.iter_content(chunk_size=None):
                    if self._stop.is_set():
                        return got_data
                    buf += chunk
                    while b"\n" in buf:
                        line, buf = buf.split(b"\n", 1)
                        kind = self._handle_line(line)
                        if kind:
                            got_data = True
                        if kind == "HEARTBEAT":
                            last_beat = self._clock()
                    if len(buf) > self.max_line_bytes:
                        self._bump("malformed_lines", last_error="line too long")
                        buf = b""
                    if self._clock() - last_beat > self.heartbeat_timeout:
                        raise _Stalled(f"no heartbeat for {self.heartbeat_timeout:g}s")
            except requests.ConnectionError as e:
                if _is_read_timeout(e):
                    raise _Stalled(f"no data for {self.heartbeat_timeout:g}s") from None
                raise
            finally:
                if buf.strip():
                    self._bump("partial_lines_dropped")
            return got_data
        finally:
            self._response = None
            resp.close()

    def _handle_line(self, line: bytes) -> str:
        """Parse one NDJSON line; returns its type, or "" for blank or malformed lines."""
        line = line.strip()
        if not line:
            return ""
        try:
            message = json.loads(line)
            mtype = message.get("type")
            if mtype == "HEARTBEAT":
                self._bump(
                    "heartbeats",
                    True,
                    last_message_at=datetime.now(UTC),
                    last_heartbeat_at=_safe_time(message.get("time")),
                )
                return "HEARTBEAT"
            if mtype == "PRICE":
                quote = parse.quote(message)
                try:
                    self.sink.write(quote)
                except Exception as e:  # noqa: BLE001 - a sink outage must not kill the stream
                    self._update(last_error=f"sink: {type(e).__name__}")
                    logger.warning("price stream: sink failed: %s", type(e).__name__)
                self._bump("prices", last_message_at=datetime.now(UTC))
                return "PRICE"
            raise ValueError(f"unknown message type {mtype!r}")
        except (ValueError, AttributeError, KeyError, TypeError, IndexError, BrokerProtocolError) as e:
            self._bump("malformed_lines", last_error=f"malformed line: {type(e).__name__}")
            logger.warning("price stream: skipped a malformed line (%d bytes): %s", len(line), type(e).__name__)
            return ""


def _safe_time(value: Any) -> datetime | None:
    try:
        return parse_time(value)
    except (ValueError, TypeError):
        return None


def _is_read_timeout(e: requests.ConnectionError) -> bool:
    text = repr(e.args[0]) if e.args else ""
    return "ReadTimeout" in text or "timed out" in text
