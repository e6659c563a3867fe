"""Spot prices of one cTrader account into a sink (Redis in production), supervised.

Subscribes to the symbols' spot events (``ProtoOASubscribeSpotsReq``; the first event after subscribing carries
the latest prices even while the market is closed) and writes each new bid/ask as a Quote. The connection keeps
itself alive (heartbeats, a probe of a silent server, reconnection with backoff); the subscription is renewed on
every new connection. Health says when the server was last heard from: a quiet symbol sends no spots, but the
connection still hears heartbeats, so a price stays usable while its stream is alive.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any, Protocol

from brokers.base import Quote
from brokers.ctrader import messages as pb
from brokers.ctrader.client import CTraderClient
from brokers.ctrader.convert import SymbolSpec, price_of_int
from brokers.errors import BrokerError

logger = logging.getLogger("brokers.ctrader.stream")


class PriceSink(Protocol):
    def write(self, quote: Quote) -> None: ...

    def write_health(self, health: dict[str, str]) -> None: ...


class SpotStream:
    def __init__(self, client: CTraderClient, symbols: list[str], sink: PriceSink) -> None:
        self.client = client
        self.symbols = symbols  # platform symbols
        self.sink = sink
        self._latest: dict[int, tuple[int | None, int | None]] = {}
        self._specs: dict[int, tuple[str, SymbolSpec]] = {}
        self._subscribed = -1
        self._lock = threading.Lock()
        self.prices = 0
        self.subscriptions = 0
        self.state = "connecting"
        self.last_error = ""

    def _on_message(self, message: pb.Message) -> None:
        if message.DESCRIPTOR.name != "ProtoOASpotEvent" or int(message.ctidTraderAccountId) != self.client.account_id:
            return
        symbol_id = int(message.symbolId)
        if symbol_id not in self._specs:
            return
        with self._lock:
            bid, ask = self._latest.get(symbol_id, (None, None))
            bid = int(message.bid) if message.HasField("bid") else bid
            ask = int(message.ask) if message.HasField("ask") else ask
            self._latest[symbol_id] = (bid, ask)
        if bid is None or ask is None:
            return
        name, spec = self._specs[symbol_id]
        self.sink.write(Quote(name, price_of_int(bid, spec.digits), price_of_int(ask, spec.digits), datetime.now(UTC)))
        self.prices += 1

    def _subscribe(self) -> None:
        for symbol in self.symbols:
            spec = self.client.spec(symbol)
            self._specs[spec.symbol_id] = (symbol, spec)
        self.client.call(
            pb.oa.ProtoOASubscribeSpotsReq(ctidTraderAccountId=self.client.account_id, symbolId=list(self._specs))
        )
        self._subscribed = self.client.connection.generation
        self.subscriptions += 1
        self.state = "streaming"

    def health(self) -> dict[str, Any]:
        connection = self.client.connection
        heard = datetime.now(UTC).timestamp() - (time.monotonic() - connection.last_received)
        return {
            "state": self.state if connection.connected else "connecting",
            "connects": connection.connects,
            "reconnects": max(0, connection.connects - 1),
            "subscriptions": self.subscriptions,
            "prices": self.prices,
            "last_message_at": datetime.fromtimestamp(heard, tz=UTC).isoformat() if connection.connected else "",
            "last_error": self.last_error,
        }

    def run(self, stop: threading.Event, *, max_seconds: float | None = None, health_every: float = 1.0) -> None:
        """Stream until ``stop`` is set (or ``max_seconds`` passed), renewing the subscription on reconnects."""
        connection = self.client.connection
        connection.keep_alive = True
        remove = connection.add_listener(self._on_message)
        deadline = time.monotonic() + max_seconds if max_seconds else None
        attempt = 0
        try:
            while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
                if not connection.connected or self._subscribed != connection.generation:
                    try:
                        self._subscribe()
                        attempt = 0
                    except BrokerError as e:
                        attempt += 1
                        self.state, self.last_error = "backoff", f"{type(e).__name__}: {e}"
                        logger.warning("cTrader spot subscription failed (%d): %s", attempt, e)
                        stop.wait(connection.backoff(attempt))
                        continue
                self.sink.write_health({k: str(v) for k, v in self.health().items()})
                stop.wait(health_every)
        finally:
            remove()
            connection.keep_alive = False
            self.state = "stopped"
            self.sink.write_health({k: str(v) for k, v in self.health().items()} | {"state": "stopped"})
