"""The fake OANDA's pricing stream: chunked NDJSON, a snapshot, prices on change, heartbeats, stream faults."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING

from tests.support.fake_oanda.account import Account
from tests.support.fake_oanda.common import J, Reply, to_unix
from tests.support.fake_oanda.faults import Fault

if TYPE_CHECKING:
    from tests.support.fake_oanda.server import FakeServer


class StreamRoute(BaseHTTPRequestHandler):
    server: FakeServer

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

    def __init__(self, handler: StreamRoute, fault: Fault | None) -> None:
        self.h = handler
        self.fault = fault
        self.sent = 0

    def _chunk(self, data: bytes) -> None:
        self.h.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
        self.h.wfile.flush()

    def send(self, message: J) -> bool:
        data = json.dumps(message).encode() + b"\n"
        if self.h.headers.get("Accept-Datetime-Format", "RFC3339").upper() == "UNIX":
            data = json.dumps(to_unix(message)).encode() + b"\n"
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
