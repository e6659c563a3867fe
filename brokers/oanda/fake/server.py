"""HTTP layer of the fake OANDA: routing, auth, fault injection and the chunked pricing stream."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from brokers.oanda.fake.broker import Account, FakeBroker, Reply
from brokers.oanda.timefmt import format_unix, parse_time

J = dict[str, Any]
TIME_KEYS = frozenset(
    {
        "time",
        "createTime",
        "openTime",
        "closeTime",
        "filledTime",
        "cancelledTime",
        "gtdTime",
        "createdTime",
        "lastOrderFillTimestamp",
        "from",
        "to",
    }
)

REST_FAULTS = frozenset({"latency", "status", "drop_before", "drop_after", "malformed"})
STREAM_FAULTS = frozenset({"stall", "drop", "half_lines", "malformed", "reject"})


@dataclass
class Fault:
    """One injected fault. ``method``/``path`` (a regex searched in the path) choose requests."""

    kind: str
    method: str | None = None
    path: str | None = None
    times: int = 1
    status: int = 500
    seconds: float = 0.0
    retry_after: float | None = None
    after: int = 0  # stream faults: messages sent before the fault strikes

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or re.search(self.path, path) is not None
        )


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    query: str
    body: str


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


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeServer

    def setup(self) -> None:
        super().setup()
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
        with self.server.meta_lock:
            self.server.seen.append(SeenRequest(method, path, split.query, raw.decode("utf-8", "replace")))
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
            body = _to_unix(body)
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

    # -- routes ---------------------------------------------------------------------------------

    def _r_accounts(self, acct: Account | None, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        auth = self.headers.get("Authorization", "")[7:]
        ids = sorted(self.server.broker.tokens[auth])
        return 200, {"accounts": [{"id": i, "tags": []} for i in ids]}

    def _r_account(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        b = self.server.broker
        with b.lock:
            out = b.summary(acct)
            out["trades"] = [b.trade_view(acct, t, summary=True) for t in b._open_trades(acct, None)]
            out["orders"] = [b.order_view(o) for o in acct.orders.values() if o["state"] == "PENDING"]
            out["positions"] = b.positions(acct, open_only=False)
            return 200, {"account": out, "lastTransactionID": acct.last}

    def _r_summary(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        with self.server.broker.lock:
            return 200, {"account": self.server.broker.summary(acct), "lastTransactionID": acct.last}

    def _r_instruments(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        b = self.server.broker
        wanted = params.get("instruments")
        names = wanted.split(",") if wanted else list(b.instruments)
        for n in names:
            b.instrument(n)
        return 200, {"instruments": [b.instruments[n].as_json() for n in names], "lastTransactionID": acct.last}

    def _r_changes(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        since = params.get("sinceTransactionID", "")
        if not since.isdigit() or int(since) > acct.last_id:
            raise Reply(416, {"errorMessage": "Invalid value specified for 'sinceTransactionID'"})
        with self.server.broker.lock:
            return 200, self.server.broker.changes(acct, int(since))

    def _r_pricing(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        b = self.server.broker
        names = [n for n in params.get("instruments", "").split(",") if n]
        if not names:
            raise Reply(400, {"errorMessage": "Invalid value specified for 'instruments'"})
        with b.lock:
            for n in names:
                b.instrument(n)
            return 200, {"time": b.now_str(), "prices": [b.price_json(n) for n in names]}

    def _r_candles(self, acct: Account | None, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        return 200, self.server.broker.query_candles(args["inst"], params)

    def _r_order_create(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        return self.server.broker.create_order(acct, body)

    def _r_orders(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        b = self.server.broker
        state = params.get("state", "PENDING")
        inst = params.get("instrument")
        ids = set(params["ids"].split(",")) if params.get("ids") else None
        count = min(int(params.get("count", "50")), 500)
        before = int(params["beforeID"]) if params.get("beforeID") else None
        with b.lock:
            rows = [
                o
                for o in sorted(acct.orders.values(), key=lambda o: -int(o["id"]))
                if (state == "ALL" or o["state"] == state)
                and (inst is None or o.get("instrument") == inst)
                and (ids is None or o["id"] in ids)
                and (before is None or int(o["id"]) < before)
            ]
            return 200, {"orders": [b.order_view(o) for o in rows[:count]], "lastTransactionID": acct.last}

    def _r_pending_orders(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        b = self.server.broker
        with b.lock:
            rows = [b.order_view(o) for o in acct.orders.values() if o["state"] == "PENDING"]
            return 200, {"orders": rows, "lastTransactionID": acct.last}

    def _r_order(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        b = self.server.broker
        with b.lock:
            order = b.find_order(acct, args["spec"])
            if order is None:
                raise Reply(
                    404,
                    {
                        "errorCode": "NO_SUCH_ORDER",
                        "errorMessage": "The order specified does not exist",
                        "lastTransactionID": acct.last,
                    },
                )
            return 200, {"order": b.order_view(order), "lastTransactionID": acct.last}

    def _r_order_cancel(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        return self.server.broker.cancel_order(acct, args["spec"])

    def _r_trades(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        b = self.server.broker
        state = params.get("state", "OPEN")
        count = min(int(params.get("count", "50")), 500)
        before = int(params["beforeID"]) if params.get("beforeID") else None
        with b.lock:
            rows = [
                t
                for t in sorted(acct.trades.values(), key=lambda t: -int(t["id"]))
                if (state == "ALL" or t["state"] == state) and (before is None or int(t["id"]) < before)
            ]
            return 200, {"trades": [b.trade_view(acct, t) for t in rows[:count]], "lastTransactionID": acct.last}

    def _r_open_trades(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        b = self.server.broker
        with b.lock:
            rows = sorted(b._open_trades(acct, None), key=lambda t: -int(t["id"]))
            return 200, {"trades": [b.trade_view(acct, t) for t in rows], "lastTransactionID": acct.last}

    def _r_trade(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        b = self.server.broker
        with b.lock:
            return 200, {"trade": b.trade_view(acct, b.find_trade(acct, args["spec"])), "lastTransactionID": acct.last}

    def _r_trade_close(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        return self.server.broker.close_trade(acct, args["spec"], body)

    def _r_trade_orders(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        return self.server.broker.set_trade_orders(acct, args["spec"], body)

    def _r_open_positions(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        with self.server.broker.lock:
            return 200, {"positions": self.server.broker.positions(acct), "lastTransactionID": acct.last}

    def _r_positions(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        with self.server.broker.lock:
            return 200, {
                "positions": self.server.broker.positions(acct, open_only=False),
                "lastTransactionID": acct.last,
            }

    def _r_txn_since(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        since = params.get("id", "")
        if not since.isdigit():
            raise Reply(400, {"errorMessage": "Invalid value specified for 'id'"})
        if int(since) > acct.last_id:
            raise Reply(416, {"errorMessage": "Invalid value specified for 'id'"})
        with self.server.broker.lock:
            rows = [t for t in acct.transactions if int(t["id"]) > int(since)]
            return 200, {"transactions": rows, "lastTransactionID": acct.last}

    def _r_txn_range(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        try:
            lo, hi = int(params["from"]), int(params["to"])
        except (KeyError, ValueError):
            raise Reply(400, {"errorMessage": "Invalid value specified for 'from' or 'to'"}) from None
        if lo > hi or lo < 1:
            raise Reply(416, {"errorMessage": "Invalid transaction ID range"})
        with self.server.broker.lock:
            rows = [t for t in acct.transactions if lo <= int(t["id"]) <= hi]
            return 200, {"transactions": rows, "lastTransactionID": acct.last}

    def _r_txn(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        with self.server.broker.lock:
            for t in acct.transactions:
                if t["id"] == args["tid"]:
                    return 200, {"transaction": t, "lastTransactionID": acct.last}
        raise Reply(404, {"errorCode": "NO_SUCH_TRANSACTION", "errorMessage": "The transaction does not exist"})

    def _r_txn_pages(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        size = min(int(params.get("pageSize", "100")), 1000)
        host = f"http://{self.headers.get('Host', '127.0.0.1')}"
        with self.server.broker.lock:
            last = acct.last_id
            pages = [
                f"{host}/v3/accounts/{acct.id}/transactions/idrange?from={lo}&to={min(lo + size - 1, last)}"
                for lo in range(1, last + 1, size)
            ]
            return 200, {
                "from": acct.created,
                "to": self.server.broker.now_str(),
                "pageSize": size,
                "count": last,
                "pages": pages,
                "lastTransactionID": acct.last,
            }

    # -- the pricing stream ---------------------------------------------------------------------

    def _r_stream(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        b = self.server.broker
        names = [n for n in params.get("instruments", "").split(",") if n]
        if not names:
            raise Reply(400, {"errorMessage": "Invalid value specified for 'instruments'"})
        for n in names:
            b.instrument(n)
        fault = self.server.take_stream_fault()
        with self.server.meta_lock:
            if fault is not None and fault.kind == "reject" or self.server.active_streams >= self.server.max_streams:
                raise Reply(429, {"errorMessage": "Too many active streams"})
            self.server.active_streams += 1
            self.server.stream_connections += 1
        try:
            self._stream(names, params.get("snapshot", "true") != "false", fault)
        finally:
            with self.server.meta_lock:
                self.server.active_streams -= 1
        self.close_connection = True
        return -1, {}

    def _stream(self, names: list[str], snapshot: bool, fault: Fault | None) -> None:
        b = self.server.broker
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        state = _StreamState(self, fault)
        sent: dict[str, tuple[str, bool]] = {}
        with b.lock:
            version = b.price_version
            if snapshot:
                lines = [b.price_json(n) for n in names]
                sent.update({n: (b.price_times[n], b.tradeable[n]) for n in names})
            else:
                lines = []
        for line in lines:
            if not state.send(line):
                return
        next_beat = time.monotonic()
        interval = self.server.heartbeat_interval
        while not self.server.stopping.is_set():
            now = time.monotonic()
            if now >= next_beat:
                if not state.send({"type": "HEARTBEAT", "time": b.now_str()}):
                    return
                next_beat = now + interval
            with b.lock:
                if b.price_version == version:
                    b.price_changed.wait(timeout=max(0.0, min(next_beat - time.monotonic(), 0.05)))
                changed = []
                if b.price_version != version:
                    version = b.price_version
                    for n in names:
                        key = (b.price_times[n], b.tradeable[n])
                        if sent.get(n) != key:
                            changed.append(b.price_json(n))
                            sent[n] = key
            for line in changed:
                if not state.send(line):
                    return
        state.finish()


class _StreamState:
    """Writes NDJSON lines as HTTP chunks and applies one stream fault."""

    def __init__(self, handler: Handler, fault: Fault | None) -> None:
        self.h = handler
        self.fault = fault
        self.sent = 0

    def _chunk(self, data: bytes) -> None:
        self.h.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
        self.h.wfile.flush()

    def send(self, message: J) -> bool:
        data = json.dumps(message).encode() + b"\n"
        if self.h.headers.get("Accept-Datetime-Format", "RFC3339").upper() == "UNIX":
            data = json.dumps(_to_unix(message)).encode() + b"\n"
        f = self.fault
        try:
            if f is not None and self.sent >= f.after:
                if f.kind == "stall":
                    # Say nothing more (no heartbeats) but keep the socket open, as a dead upstream does.
                    deadline = time.monotonic() + (f.seconds or 30.0)
                    while time.monotonic() < deadline and not self.h.server.stopping.is_set():
                        time.sleep(0.02)
                    return False
                if f.kind == "drop":
                    self._chunk(data[: len(data) // 2])  # die mid-line
                    return False
                if f.kind == "malformed" and f.times >= 0:
                    self._chunk(b'{"type": "PRICE", "instrument": "EUR_USD", "bids": [\n')
                    f.times = -1  # once per connection
            if f is not None and f.kind == "half_lines":
                mid = max(1, len(data) // 2)
                self._chunk(data[:mid])
                time.sleep(0.005)
                self._chunk(data[mid:])
            else:
                self._chunk(data)
            self.sent += 1
            return True
        except (BrokenPipeError, ConnectionResetError, OSError):
            return False

    def finish(self) -> None:
        try:
            self.h.wfile.write(b"0\r\n\r\n")
            self.h.wfile.flush()
        except OSError:
            pass


def _to_unix(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _to_unix(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_unix(v) for v in value]
    if key in TIME_KEYS and isinstance(value, str) and "T" in value:
        return format_unix(parse_time(value))
    return value
