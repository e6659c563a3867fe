"""One TLS connection to a cTrader Open API server, shared by every account of the process that uses it.

The one place bytes are sent to cTrader: TLS, framing, pacing, the application's authorisation, heartbeats,
request/response matching by ``clientMsgId``, reconnection with backoff, and the error taxonomy. A reader
thread takes every frame off the socket: an answer goes to the request that carries its clientMsgId, any
other message (spot prices, execution events of orders placed elsewhere, the server's disconnect notices)
goes to the listeners. A keeper thread sends a heartbeat whenever nothing was sent for ``heartbeat_every``
seconds (the server drops a client silent for more than 10 s), probes a connection it has heard nothing from
for ``silence_probe`` seconds with a version request, drops it when the probe goes unanswered, and, while
listeners want a live connection (a price stream), reconnects it with backoff.

Accounts are authorised by their clients (``brokers.ctrader.client``) on each new connection:
``generation`` counts connections, so a client whose account was authorised on an older one does it again.
Nothing here logs or formats a token or the application's secret.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import queue
import random
import selectors
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from brokers.ctrader import messages as pb
from brokers.ctrader.pending import ConnectionLost, Endpoint, Pending, raise_if_error
from brokers.ctrader.wire import FrameBuffer, FrameError, TokenBucket, frame
from brokers.errors import BrokerAuthError, BrokerError, BrokerTemporaryError, BrokerUnknownOutcomeError

logger = logging.getLogger("brokers.ctrader.connection")

Listener = Callable[[pb.Message], None]
HISTORICAL = frozenset({"ProtoOAGetTrendbarsReq", "ProtoOAGetTickDataReq", "ProtoOADealListReq"})


class Connection:
    def __init__(
        self,
        endpoint: Endpoint,
        *,
        client_id: str,
        client_secret: str,
        timeout: float = 10.0,
        heartbeat_every: float = 9.0,
        silence_probe: float = 25.0,
        connect_attempts: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        rate: float = 40.0,
        burst: int = 10,
        historical_rate: float = 4.0,
        historical_burst: int = 1,
    ) -> None:
        self.endpoint = endpoint
        self._client_id = client_id
        self._client_secret = client_secret
        self.timeout = timeout
        self.heartbeat_every = heartbeat_every
        self.silence_probe = silence_probe
        self.connect_attempts = connect_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._bucket = TokenBucket(rate, burst)
        self._historical = TokenBucket(historical_rate, historical_burst)
        self._lock = threading.Lock()  # the socket and the pending table; held only briefly
        self._connect_lock = threading.Lock()  # one connect at a time
        self._write_lock = threading.Lock()
        self._sock: ssl.SSLSocket | None = None
        self._wake: socket.socket | None = None  # wakes the I/O thread when there is something to write
        self._outbound: deque[bytes] = deque()
        self._pending: dict[str, Pending] = {}
        self._listeners: list[Listener] = []
        self._ids = itertools.count(1)
        self._closed = threading.Event()
        self._keeper: threading.Thread | None = None
        self.keep_alive = False  # reconnect on a drop even when no request is waiting (price streams)
        self.generation = 0
        self._ready = -1  # the generation whose application authorisation succeeded
        self.connects = 0
        self.drops = 0
        self.last_received = 0.0
        self._last_sent = 0.0

    def __repr__(self) -> str:
        return f"Connection({self.endpoint.host}:{self.endpoint.port}, generation={self.generation})"

    @property
    def connected(self) -> bool:
        return self._sock is not None

    # -- connecting ---------------------------------------------------------------------------------

    def ensure_connected(self) -> int:
        """Connect (and authorise the application) unless connected; returns the generation.

        Tries ``connect_attempts`` times with backoff; raises BrokerTemporaryError when the server cannot be
        reached and BrokerAuthError when it refuses the application's credentials.
        """
        if self._sock is not None and self._ready == self.generation:
            return self.generation
        with self._connect_lock:
            if self._sock is not None and self._ready == self.generation:
                return self.generation
            if self._closed.is_set():
                raise BrokerTemporaryError("cTrader connection is closed")
            last: Exception | None = None
            for attempt in range(1, self.connect_attempts + 1):
                try:
                    self._connect_once()
                    return self.generation
                except BrokerAuthError:
                    self._drop("application refused")
                    raise
                except (OSError, BrokerError, FrameError, ConnectionLost, TimeoutError) as e:
                    last = e
                    self._drop(f"connect failed: {type(e).__name__}")
                    if attempt < self.connect_attempts:
                        time.sleep(self.backoff(attempt))
            raise BrokerTemporaryError(
                f"cTrader {self.endpoint.host}:{self.endpoint.port} unreachable after {self.connect_attempts} "
                f"attempts: {type(last).__name__}: {last}"
            )

    def backoff(self, attempt: int) -> float:
        """Seconds before connect attempt ``attempt + 1``: exponential, capped, with jitter."""
        cap = min(self.backoff_max, self.backoff_base * 2.0 ** (attempt - 1))
        return cap / 2 + random.uniform(0, cap / 2)  # noqa: S311 - jitter, not crypto

    def _connect_once(self) -> None:
        context = ssl.create_default_context(cafile=self.endpoint.ca_file)
        raw = socket.create_connection((self.endpoint.host, self.endpoint.port), timeout=self.timeout)
        try:
            sock = context.wrap_socket(raw, server_hostname=self.endpoint.host)
        except BaseException:
            raw.close()
            raise
        sock.setblocking(False)  # from here on only the I/O thread touches it
        wake_r, wake_w = socket.socketpair()
        wake_r.setblocking(False)
        with self._lock:
            self._sock = sock
            self._wake = wake_w
            self._outbound.clear()
            self.generation += 1
        self.connects += 1
        self.last_received = self._last_sent = time.monotonic()
        generation = self.generation
        threading.Thread(target=self._io_loop, args=(sock, wake_r, generation), daemon=True, name="ctrader-io").start()
        if self._keeper is None:
            self._keeper = threading.Thread(target=self._keep_loop, daemon=True, name="ctrader-keeper")
            self._keeper.start()
        auth = pb.oa.ProtoOAApplicationAuthReq(clientId=self._client_id, clientSecret=self._client_secret)
        self._answer(self._send(auth, generation), auth, timeout=self.timeout)
        self._ready = generation
        logger.info("cTrader %s:%s connected (generation %d)", self.endpoint.host, self.endpoint.port, generation)

    def _drop(self, reason: str) -> None:
        with self._lock:
            sock, self._sock = self._sock, None
            wake, self._wake = self._wake, None
            pending, self._pending = self._pending, {}
        if sock is None:
            return
        self.drops += 1
        logger.warning("cTrader %s:%s connection dropped: %s", self.endpoint.host, self.endpoint.port, reason)
        for closable in (wake, sock):
            try:
                if closable is not None:
                    closable.close()
            except OSError:
                pass
        for p in pending.values():
            p.put(ConnectionLost(reason))

    def close(self) -> None:
        self._closed.set()
        self._drop("closed by us")

    # -- sending ------------------------------------------------------------------------------------

    def send(self, message: pb.Message, inbox: queue.Queue[Any] | None = None) -> Pending:
        """Send ``message`` on the current connection (connecting first). Its answers arrive on the Pending
        (in ``inbox`` when given, beside what the caller's listener puts there), a drop as ConnectionLost."""
        return self._send(message, self.ensure_connected(), inbox)

    def _send(self, message: pb.Message, generation: int, inbox: queue.Queue[Any] | None = None) -> Pending:
        name = str(message.DESCRIPTOR.name)
        if name in HISTORICAL:
            self._historical.acquire()
        self._bucket.acquire()
        msg_id = f"a{next(self._ids)}"
        pending = Pending(msg_id, generation, inbox)
        with self._lock:
            if self._sock is None or generation != self.generation:
                raise BrokerTemporaryError(f"cTrader {name}: not connected")
            self._pending[msg_id] = pending
        self._write(pb.wrap(message, msg_id), generation, name)
        return pending

    def _heartbeat(self, generation: int) -> None:
        self._write(pb.wrap(pb.common.ProtoHeartbeatEvent()), generation, "ProtoHeartbeatEvent")

    def _write(self, data: bytes, generation: int, name: str) -> None:
        """Queue one frame for the I/O thread and wake it."""
        with self._lock:
            wake = self._wake
            if self._sock is None or wake is None or generation != self.generation:
                raise ConnectionLost(f"{name}: the connection was replaced before it was written")
            self._outbound.append(frame(data))
            self._last_sent = time.monotonic()
        try:
            wake.send(b"w")
        except OSError:
            pass  # the I/O thread is closing the connection; waiting requests learn it from the drop

    def forget(self, pending: Pending) -> None:
        with self._lock:
            self._pending.pop(pending.msg_id, None)

    def request(self, message: pb.Message, *, timeout: float | None = None, idempotent: bool = True) -> pb.Message:
        """Send and return the one answer, or raise the mapped error.

        A lost connection or a missing answer is retried (once more on a fresh connection) when the request is
        ``idempotent``; otherwise it raises BrokerUnknownOutcomeError: the server may have carried it out.
        """
        name = str(message.DESCRIPTOR.name)
        for attempt in (1, 2):
            generation = self.ensure_connected()
            try:
                pending = self._send(message, generation)
            except ConnectionLost as e:
                if idempotent and attempt == 1:
                    continue
                raise BrokerUnknownOutcomeError(f"cTrader {name}: {e}; look it up before resending") from None
            try:
                return self._answer(pending, message, timeout=timeout or self.timeout)
            except (ConnectionLost, TimeoutError) as e:
                if isinstance(e, TimeoutError) and self.last_received < pending.sent_at:
                    self._drop(f"{name}: the server went silent")  # nothing heard since: a dead connection
                if idempotent and attempt == 1:
                    continue
                if idempotent:
                    raise BrokerTemporaryError(f"cTrader {name}: no answer ({e})") from None
                raise BrokerUnknownOutcomeError(
                    f"cTrader {name}: sent but no answer ({e}); look it up before resending"
                ) from None
        raise AssertionError("unreachable")

    def _answer(self, pending: Pending, message: pb.Message, *, timeout: float) -> pb.Message:
        try:
            answer = pending.next(timeout)
        finally:
            self.forget(pending)
        if answer is None:
            raise TimeoutError(f"no answer to {message.DESCRIPTOR.name} within {timeout:.1f} s")
        raise_if_error(answer, where=str(message.DESCRIPTOR.name))
        return answer

    # -- receiving ----------------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every message that answers no waiting request; returns the remover."""
        with self._lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    def _io_loop(self, sock: ssl.SSLSocket, wake: socket.socket, generation: int) -> None:
        """The only code that reads or writes the TLS socket (an SSL object is not safe for concurrent use)."""
        frames = FrameBuffer()
        out = bytearray()
        selector = selectors.DefaultSelector()
        selector.register(sock, selectors.EVENT_READ)
        selector.register(wake, selectors.EVENT_READ)
        try:
            while self._sock is sock:
                with self._lock:
                    while self._outbound:
                        out += self._outbound.popleft()
                selector.modify(sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if out else 0))
                for key, _ in selector.select(timeout=0.5):
                    if key.fileobj is wake:
                        with contextlib.suppress(BlockingIOError):
                            wake.recv(4096)
                if out:
                    out = out[self._send_some(sock, out) :]
                for data in self._receive_some(sock, frames):
                    self._dispatch(data)
        except (OSError, ConnectionError, FrameError) as e:
            if self._sock is sock:
                self._drop(f"{type(e).__name__}: {e}")
        finally:
            selector.close()
            with contextlib.suppress(OSError):
                wake.close()

    @staticmethod
    def _send_some(sock: ssl.SSLSocket, out: bytearray) -> int:
        try:
            return sock.send(out)
        except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
            return 0

    def _receive_some(self, sock: ssl.SSLSocket, frames: FrameBuffer) -> list[bytes]:
        done: list[bytes] = []
        while True:
            try:
                chunk = sock.recv(65536)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                return done
            if not chunk:
                raise ConnectionError("connection closed by the server")
            self.last_received = time.monotonic()
            done += frames.feed(chunk)

    def _dispatch(self, data: bytes) -> None:
        try:
            message, msg_id = pb.unwrap(data)
        except ValueError as e:
            logger.warning("cTrader frame skipped: %s", e)
            return
        if pb.payload_type(message) == pb.HEARTBEAT_TYPE:
            return
        with self._lock:
            pending = self._pending.get(msg_id) if msg_id is not None else None
            listeners = list(self._listeners)
        if pending is not None:
            pending.put(message)
            return
        for listener in listeners:
            try:
                listener(message)
            except Exception:  # a listener's bug must not stop the I/O thread
                logger.exception("cTrader listener failed on %s", message.DESCRIPTOR.name)

    def _keep_loop(self) -> None:
        attempt = 0
        while not self._closed.wait(0.2):
            if self._sock is None:
                if not self.keep_alive:
                    continue
                attempt += 1
                try:
                    self.ensure_connected()
                    attempt = 0
                except BrokerError as e:
                    logger.warning("cTrader reconnect %d failed: %s", attempt, e)
                    self._closed.wait(self.backoff(attempt))
                continue
            now = time.monotonic()
            try:
                if now - self.last_received > self.silence_probe:
                    self.request(pb.oa.ProtoOAVersionReq(), timeout=min(self.timeout, 5.0), idempotent=False)
                elif now - self._last_sent > self.heartbeat_every:
                    self._heartbeat(self.generation)
            except (BrokerError, ConnectionLost) as e:
                self._drop(f"keep-alive failed: {type(e).__name__}")
