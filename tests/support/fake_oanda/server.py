"""HTTP layer of the fake OANDA: the threaded server, routing, auth and REST fault injection."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.support.fake_oanda.account import Account
from tests.support.fake_oanda.broker import FakeBroker
from tests.support.fake_oanda.common import J, Reply, to_unix
from tests.support.fake_oanda.faults import REST_FAULTS, STREAM_FAULTS, Fault, SeenRequest, Throttle
from tests.support.fake_oanda.routes import RestRoutes
from tests.support.fake_oanda.streaming import StreamRoute

__all__ = ["REST_FAULTS", "STREAM_FAULTS", "FakeServer", "Fault", "Handler", "SeenRequest"]


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], broker: FakeBroker, *, heartbeat_interval: float, max_streams: int
    ) -> None:
        super().__init__(address, Handler)
        self.broker = broker
        self.heartbeat_interval = heartbeat_interval
        self.max_streams = max_streams
        self.active_streams = 0
        self.stream_connections = 0
        self.stopping = threading.Event()
        self.faults: list[Fault] = []
        self.stream_faults: list[Fault] = []
        self.seen: list[SeenRequest] = []
        self.connection_times: list[float] = []  # accepted TCP connections, on time.monotonic()
        self.throttle: Throttle | None = None
        self.meta_lock = threading.Lock()

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.meta_lock:
            for fault in self.faults:
                if fault.times > 0 and fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None

    def take_stream_fault(self) -> Fault | None:
        with self.meta_lock:
            for fault in self.stream_faults:
                if fault.times > 0:
                    fault.times -= 1
                    return fault
        return None


_ACCT = r"/v3/accounts/(?P<acct>[^/]+)"
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (m, re.compile(f"^{p}$"), name)
    for m, p, name in [
        ("GET", r"/v3/accounts", "accounts"),
        ("GET", _ACCT, "account"),
        ("GET", _ACCT + r"/summary", "summary"),
        ("GET", _ACCT + r"/instruments", "instruments"),
        ("GET", _ACCT + r"/changes", "changes"),
        ("GET", _ACCT + r"/pricing", "pricing"),
        ("GET", _ACCT + r"/pricing/stream", "stream"),
        ("GET", r"/v3/instruments/(?P<inst>[^/]+)/candles", "candles"),
        ("GET", _ACCT + r"/instruments/(?P<inst>[^/]+)/candles", "candles"),
        ("POST", _ACCT + r"/orders", "order_create"),
        ("GET", _ACCT + r"/orders", "orders"),
        ("GET", _ACCT + r"/pendingOrders", "pending_orders"),
        ("GET", _ACCT + r"/orders/(?P<spec>[^/]+)", "order"),
        ("PUT", _ACCT + r"/orders/(?P<spec>[^/]+)/cancel", "order_cancel"),
        ("GET", _ACCT + r"/trades", "trades"),
        ("GET", _ACCT + r"/openTrades", "open_trades"),
        ("GET", _ACCT + r"/trades/(?P<spec>[^/]+)", "trade"),
        ("PUT", _ACCT + r"/trades/(?P<spec>[^/]+)/close", "trade_close"),
        ("PUT", _ACCT + r"/trades/(?P<spec>[^/]+)/orders", "trade_orders"),
        ("GET", _ACCT + r"/openPositions", "open_positions"),
        ("GET", _ACCT + r"/positions", "positions"),
        ("GET", _ACCT + r"/transactions/sinceid", "txn_since"),
        ("GET", _ACCT + r"/transactions/idrange", "txn_range"),
        ("GET", _ACCT + r"/transactions/(?P<tid>\d+)", "txn"),
        ("GET", _ACCT + r"/transactions", "txn_pages"),
    ]
]


class Handler(RestRoutes, StreamRoute):
    protocol_version = "HTTP/1.1"
    server: FakeServer

    def setup(self) -> None:
        super().setup()
        with self.server.meta_lock:
            self.server.connection_times.append(time.monotonic())
        # Headers and body go out in separate writes; without this, Nagle + delayed ACK add ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return

    def do_GET(self) -> None:  # noqa: N802
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._handle("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self._handle("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")

    # -- plumbing -------------------------------------------------------------------------------

    def _handle(self, method: str) -> None:
        split = urlsplit(self.path)
        path = split.path
        params = dict(parse_qsl(split.query))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        now = time.monotonic()
        with self.server.meta_lock:
            throttle = self.server.throttle
            throttled = throttle is not None and not throttle.admit(now)
            body_text = raw.decode("utf-8", "replace")
            self.server.seen.append(SeenRequest(method, path, split.query, body_text, now, throttled))
        if throttled:
            self._send(429, {"errorMessage": "Rate limit exceeded: too many requests from this address"})
            return
        fault = self.server.take_fault(method, path)
        if fault is not None and fault.kind == "latency":
            time.sleep(fault.seconds)
        if fault is not None and fault.kind == "drop_before":
            self.close_connection = True
            return
        if fault is not None and fault.kind == "status":
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            message = "Too many requests" if fault.status == 429 else "Service unavailable (injected)"
            self._send(fault.status, {"errorMessage": message}, headers)
            return
        try:
            status, body = self._dispatch(method, path, params, raw)
        except Reply as r:
            status, body = r.status, r.body
        if status == -1:  # the stream handled the connection itself
            return
        if fault is not None and fault.kind == "drop_after":
            self.close_connection = True
            return
        if fault is not None and fault.kind == "malformed":
            self._send_raw(200, b'{"lastTransactionID": "1", "truncated": [1, 2', "application/json")
            return
        self._send(status, body)

    def _send(self, status: int, body: J, headers: dict[str, str] | None = None) -> None:
        if self.headers.get("Accept-Datetime-Format", "RFC3339").upper() == "UNIX":
            body = to_unix(body)
        self._send_raw(status, json.dumps(body).encode(), "application/json", headers)

    def _send_raw(self, status: int, data: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("RequestID", str(time.time_ns()))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _authorised(self, acct_id: str | None) -> Account | None:
        auth = self.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        broker = self.server.broker
        if token not in broker.tokens:
            raise Reply(401, {"errorMessage": "Insufficient authorization to perform request."})
        if acct_id is None:
            return None
        if acct_id not in broker.tokens[token]:
            if acct_id in broker.accounts:
                raise Reply(403, {"errorMessage": "The provided request was forbidden."})
            raise Reply(
                404,
                {"errorCode": "NO_SUCH_ACCOUNT", "errorMessage": f"The account specified ({acct_id}) does not exist"},
            )
        return broker.accounts[acct_id]

    def _dispatch(self, method: str, path: str, params: dict[str, str], raw: bytes) -> tuple[int, J]:
        route = None
        path_known = False
        for m, pattern, name in _ROUTES:
            match = pattern.match(path)
            if match:
                path_known = True
                if m == method:
                    route = (name, {k: unquote(v) for k, v in match.groupdict().items()})
                    break
        if route is None:
            if path_known:
                raise Reply(405, {"errorMessage": f"The method {method} is not allowed for this resource"})
            raise Reply(404, {"errorMessage": f"The path {path} does not exist"})
        name, args = route
        acct = self._authorised(args.get("acct"))
        body: J = {}
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                raise Reply(400, {"errorMessage": "The request body is not valid JSON"}) from None
        handler: Callable[..., tuple[int, J]] = getattr(self, f"_r_{name}")
        return handler(acct, args, params, body)
