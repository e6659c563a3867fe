"""The fake's transport: a TLS listener on 127.0.0.1, one session (and one I/O thread) per connection.

Framing is written here on its own (a 4-byte big-endian length, then a serialised ``ProtoMessage``), not shared
with the client, so a framing mistake on either side shows. A session reads frames, hands each request to the
handlers, and writes answers and events from one thread (an SSL object is not safe for concurrent use); other
threads queue messages and wake it. Faults act here: latency, an error answer, a connection dropped right after
accept or after a request was carried out (its answer lost), a stall (silence, no heartbeats).
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import ssl
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from brokers.ctrader import messages as pb

logger = logging.getLogger("tests.fake_ctrader")
_LEN = struct.Struct(">I")


@dataclass
class Fault:
    """Applies to the next ``times`` requests named ``payload`` (any request when empty)."""

    kind: str  # latency | error | drop_before | drop_after | stall | drop_on_accept
    payload: str = ""
    times: int = 1
    seconds: float = 0.0
    code: str = "UNKNOWN_ERROR"
    hits: int = 0


@dataclass
class Session:
    """One client connection."""

    server: FakeServer
    sock: ssl.SSLSocket
    wake_r: socket.socket
    wake_w: socket.socket
    app_authorised: bool = False
    accounts: set[int] = field(default_factory=set)
    tokens: dict[int, str] = field(default_factory=dict)  # account -> the access token it was authorised with
    spots: dict[int, set[int]] = field(default_factory=dict)  # account -> subscribed symbol ids
    outbound: deque[bytes] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)
    alive: bool = True
    stalled_until: float = 0.0
    mute: bool = False  # drop_after: carry out the request, send nothing, then close
    received: list[str] = field(default_factory=list)
    recent: deque[tuple[float, bool]] = field(default_factory=deque)  # (time, historical) for the rate limits

    def send(self, message: Any, msg_id: str | None = None) -> None:
        if self.mute or not self.alive:
            return
        data = pb.common.ProtoMessage(payloadType=int(message.payloadType), payload=message.SerializeToString())
        if msg_id is not None:
            data.clientMsgId = msg_id
        raw = data.SerializeToString()
        with self.lock:
            self.outbound.append(_LEN.pack(len(raw)) + raw)
        with contextlib.suppress(OSError):
            self.wake_w.send(b"w")

    def close(self) -> None:
        self.alive = False
        with contextlib.suppress(OSError):
            self.wake_w.send(b"x")


class FakeServer:
    def __init__(
        self,
        context: ssl.SSLContext,
        handle: Callable[[Session, Any, str | None], None],  # (session, ProtoMessage envelope, clientMsgId)
        *,
        heartbeat_every: float = 5.0,
        host: str = "127.0.0.1",
    ) -> None:
        self.context = context
        self.handle = handle
        self.heartbeat_every = heartbeat_every
        self.listener = socket.create_server((host, 0))
        self.listener.settimeout(0.2)
        self.host, self.port = self.listener.getsockname()[:2]
        self.sessions: list[Session] = []
        self.faults: list[Fault] = []
        self.meta = threading.Lock()
        self.stopping = threading.Event()
        self.accepted = 0
        self.thread = threading.Thread(target=self._accept_loop, daemon=True, name="fake-ctrader-accept")
        self.thread.start()

    def take_fault(self, kind: str, payload: str = "") -> Fault | None:
        with self.meta:
            for fault in self.faults:
                if fault.kind == kind and fault.payload in ("", payload) and fault.hits < fault.times:
                    fault.hits += 1
                    return fault
        return None

    def _accept_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                raw, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            if self.take_fault("drop_on_accept"):
                raw.close()
                continue
            threading.Thread(target=self._serve, args=(raw,), daemon=True, name="fake-ctrader-session").start()

    def _serve(self, raw: socket.socket) -> None:
        try:
            raw.settimeout(5.0)
            sock = self.context.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()
            return
        sock.setblocking(False)
        wake_r, wake_w = socket.socketpair()
        wake_r.setblocking(False)
        session = Session(self, sock, wake_r, wake_w)
        with self.meta:
            self.sessions.append(session)
        try:
            self._io(session)
        except (OSError, ConnectionError, ValueError) as e:
            logger.debug("fake cTrader session ended: %s", e)
        finally:
            session.alive = False
            for s in (sock, wake_r, wake_w):
                with contextlib.suppress(OSError):
                    s.close()

    def _io(self, session: Session) -> None:
        sock = session.sock
        buffer = bytearray()
        out = bytearray()
        last_beat = time.monotonic()
        selector = selectors.DefaultSelector()
        selector.register(sock, selectors.EVENT_READ)
        selector.register(session.wake_r, selectors.EVENT_READ)
        while session.alive and not self.stopping.is_set():
            stalled = time.monotonic() < session.stalled_until
            with session.lock:
                while session.outbound and not stalled:
                    out += session.outbound.popleft()
            selector.modify(sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if out else 0))
            for key, _ in selector.select(timeout=0.05):
                if key.fileobj is session.wake_r:
                    with contextlib.suppress(BlockingIOError):
                        session.wake_r.recv(4096)
            if out:
                try:
                    del out[: sock.send(out)]
                except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
                    pass
            if not out and session.mute:
                return  # drop_after: the request was carried out, its answer is lost with the connection
            if not stalled and time.monotonic() - last_beat > self.heartbeat_every:
                last_beat = time.monotonic()
                session.send(pb.common.ProtoHeartbeatEvent())
            while True:
                try:
                    chunk = sock.recv(65536)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                    break
                if not chunk:
                    return
                buffer += chunk
            while len(buffer) >= 4 and len(buffer) >= 4 + _LEN.unpack_from(buffer)[0]:
                size = _LEN.unpack_from(buffer)[0]
                raw = bytes(buffer[4 : 4 + size])
                del buffer[: 4 + size]
                if time.monotonic() < session.stalled_until:
                    continue  # a stalled server reads nothing it answers
                envelope = pb.common.ProtoMessage.FromString(raw)
                msg_id = str(envelope.clientMsgId) if envelope.HasField("clientMsgId") else None
                self.handle(session, envelope, msg_id)

    def stop(self) -> None:
        self.stopping.set()
        with contextlib.suppress(OSError):
            self.listener.close()
        with self.meta:
            sessions = list(self.sessions)
        for session in sessions:
            session.close()
        self.thread.join(timeout=2)
