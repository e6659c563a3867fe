"""A fake cTrader Open API server on 127.0.0.1 for tests and benchmarks: TLS with a throw-away certificate,
the real framing and the official messages, scripted prices, fills, stop losses and take profits, deals, trend
bars, hedged and netted accounts, and fault injection.

    fake = FakeCTrader.start()                     # fake.address "127.0.0.1:<port>", fake.ca_file
    fake.set_price("EURUSD", "1.10000", "1.10010") # moves the market: resting orders, SL/TP, spot events
    fake.manual_open("EURUSD", "sell", 2000)       # a person trading on cTrader's own platform
    fake.inject("drop_after", "ProtoOANewOrderReq")  # carry the order out, then lose its answer
    fake.stop()

Faults (``inject``): latency (``seconds``), error (``code``), drop_before, drop_after, stall (silence for
``seconds``), drop_on_accept (close a new connection before TLS). ``expire_token`` ends an access token.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.support.fake_ctrader import encode
from tests.support.fake_ctrader.broker import BUY, MARKET, SELL, Broker, Exec
from tests.support.fake_ctrader.certs import make_tls
from tests.support.fake_ctrader.handlers import Handlers
from tests.support.fake_ctrader.server import FakeServer, Fault, Session
from tests.support.fake_ctrader.state import Account, Grant, Order, Symbol, now_ms

__all__ = ["FakeCTrader", "Fault"]

HEDGED, NETTED, OTHER = 4100001, 4100002, 4100003
CLIENT_ID, CLIENT_SECRET = "1234_fakeAppClientId", "fakeAppClientSecret0123456789"
TOKEN_LIFETIME_S = 2_628_000


class FakeCTrader:
    def __init__(
        self,
        *,
        folder: Path | None = None,
        heartbeat_every: float = 0.5,
        enforce_limits: bool = True,
        commission_per_lot: int = 0,
    ) -> None:
        self.broker = Broker(commission_per_lot=commission_per_lot)
        self.client_id, self.client_secret = CLIENT_ID, CLIENT_SECRET
        self.enforce_limits = enforce_limits
        self.seen: list[str] = []
        self.heartbeats = 0  # heartbeats received from clients
        self.trendbars: dict[tuple[int, int], list[tuple[int, Decimal, Decimal, Decimal, Decimal, int]]] = {}
        for symbol in (
            Symbol(1, "EURUSD", "EUR", "USD"),
            Symbol(2, "USDJPY", "USD", "JPY", digits=3, pip_position=2, bid=Decimal("150.000"), ask=Decimal("150.012")),
            Symbol(3, "GBPUSD", "GBP", "USD", bid=Decimal("1.27000"), ask=Decimal("1.27015")),
        ):
            self.broker.symbols[symbol.symbol_id] = symbol
        for account_id, hedging in ((HEDGED, True), (NETTED, False), (OTHER, True)):
            self.broker.accounts[account_id] = Account(account_id, login=account_id - 4000000, hedging=hedging)
        self.main = self.grant((HEDGED, NETTED))
        self.grant((OTHER,))
        self.folder = folder or Path(tempfile.mkdtemp(prefix="fake-ctrader-"))
        context, self.ca_file = make_tls(self.folder)
        self.server = FakeServer(context, Handlers(self), heartbeat_every=heartbeat_every)

    @classmethod
    def start(cls, **kwargs: Any) -> FakeCTrader:
        return cls(**kwargs)

    def __enter__(self) -> FakeCTrader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.server.stop()

    @property
    def address(self) -> str:
        return f"{self.server.host}:{self.server.port}"

    # -- tokens ---------------------------------------------------------------------------------------

    def grant(self, accounts: Iterable[int], *, lifetime_s: int = TOKEN_LIFETIME_S) -> Grant:
        grant = Grant(
            access_token=secrets.token_urlsafe(24),
            refresh_token=secrets.token_urlsafe(24),
            accounts=tuple(accounts),
            expires_ms=now_ms() + lifetime_s * 1000,
        )
        self.broker.grants[grant.access_token] = grant
        return grant

    def current_grant(self, account_id: int = HEDGED) -> Grant:
        """The newest unrevoked grant that opens ``account_id``."""
        with self.broker.lock:
            live = [g for g in self.broker.grants.values() if account_id in g.accounts and not g.revoked]
            return max(live, key=lambda g: g.expires_ms)

    def expire_token(self, access_token: str) -> None:
        with self.broker.lock:
            self.broker.grants[access_token].expires_ms = 0

    # -- faults and inspection ------------------------------------------------------------------------

    def inject(self, kind: str, payload: str = "", *, times: int = 1, seconds: float = 0.0, code: str = "") -> Fault:
        kinds = {"latency", "error", "drop_before", "drop_after", "stall", "drop_on_accept"}
        if kind not in kinds:
            raise ValueError(f"unknown fault {kind!r}; one of {sorted(kinds)}")
        fault = Fault(kind, payload, times, seconds, code or "UNKNOWN_ERROR")
        with self.server.meta:
            self.server.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self.server.meta:
            self.server.faults.clear()

    def count(self, name: str) -> int:
        """How many requests named ``name`` (e.g. ProtoOANewOrderReq) the server received."""
        return sum(1 for n in list(self.seen) if n == name)

    def account(self, account_id: int = HEDGED) -> Account:
        return self.broker.accounts[account_id]

    def orders(self, account_id: int = HEDGED, *, order_type: int | None = None) -> list[Order]:
        with self.broker.lock:
            return [o for o in self.account(account_id).orders.values() if order_type in (None, o.order_type)]

    @property
    def connections(self) -> int:
        return self.server.accepted

    def drop_connections(self) -> int:
        """Close every client connection (a server restart, a network cut); returns how many."""
        sessions = self._sessions()
        for session in sessions:
            session.close()
        return len(sessions)

    def stall_connections(self, seconds: float) -> None:
        """Every open connection goes silent: no answers, no heartbeats, for ``seconds``."""
        import time

        for session in self._sessions():
            session.stalled_until = time.monotonic() + seconds

    # -- the market and people ------------------------------------------------------------------------

    def set_price(self, name: str, bid: str | Decimal, ask: str | Decimal) -> None:
        with self.broker.lock:
            symbol = self.broker.symbol_named(name)
            symbol.bid, symbol.ask, symbol.quoted_at = Decimal(bid), Decimal(ask), now_ms()
            execs = self.broker.reprice(symbol)
            self.publish(execs, None, None)
            for session in self._sessions():
                for account_id, ids in session.spots.items():
                    if symbol.symbol_id in ids:
                        session.send(encode.spot(account_id, symbol))

    def manual_open(self, name: str, side: str, units: int | Decimal, *, account_id: int = HEDGED) -> int:
        """A market order placed by a person (no label, comment or client order id); returns the position id."""
        with self.broker.lock:
            account = self.account(account_id)
            symbol = self.broker.symbol_named(name)
            order = Order(
                self.broker.next_id(),
                account_id,
                symbol.symbol_id,
                MARKET,
                BUY if side == "buy" else SELL,
                int(Decimal(units) * 100),
            )
            execs = self.broker.place(account, order)
            self.publish(execs, None, None)
            return order.position_id

    def manual_close(self, position_id: int, *, account_id: int = HEDGED, stop_out: bool = False) -> None:
        with self.broker.lock:
            account = self.account(account_id)
            position = account.positions[position_id]
            order = self.broker.closing_order(account, position, position.volume, stop_out=stop_out)
            symbol = self.broker.symbols[position.symbol_id]
            self.publish(self.broker.fill(account, order, symbol.bid if order.side == SELL else symbol.ask), None, None)

    def charge_swap(self, position_id: int, cents: int, *, account_id: int = HEDGED) -> None:
        with self.broker.lock:
            self.account(account_id).positions[position_id].swap += cents

    def set_trendbars(self, name: str, minutes: int, bars: Iterable[tuple[int, str, str, str, str, int]]) -> None:
        """Bars as (open minute since 1970, open, high, low, close, volume) for one symbol and period."""
        from brokers.ctrader.history import PERIODS

        symbol = self.broker.symbol_named(name)
        self.trendbars[(symbol.symbol_id, PERIODS[minutes])] = [
            (m, Decimal(o), Decimal(h), Decimal(lo), Decimal(c), v) for m, o, h, lo, c, v in bars
        ]

    # -- delivery -------------------------------------------------------------------------------------

    def _sessions(self) -> list[Session]:
        with self.server.meta:
            return [s for s in self.server.sessions if s.alive]

    def publish(self, execs: list[Exec], session: Session | None, msg_id: str | None) -> None:
        """The first event answers the request (with its clientMsgId); the rest, and every server event, go
        to every connection on which the account is authorised."""
        for i, e in enumerate(execs):
            message = encode.execution(e)
            if i == 0 and session is not None:
                session.send(message, msg_id)
                continue
            for other in self._sessions():
                if e.account_id in other.accounts:
                    other.send(message)

    def deals(self, account_id: int = HEDGED) -> list[Any]:
        with self.broker.lock:
            return list(self.account(account_id).deals)
