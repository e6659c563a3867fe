"""The fake OANDA's control handle: start/stop the server, move the market, inject faults, inspect state."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from brokers.oanda.symbols import to_broker_symbol
from tests.support.fake_oanda.broker import Account, FakeBroker
from tests.support.fake_oanda.faults import REST_FAULTS, STREAM_FAULTS, Fault, SeenRequest, Throttle
from tests.support.fake_oanda.financing import daily_financing
from tests.support.fake_oanda.instruments import DEFAULT_INSTRUMENTS, FakeInstrument
from tests.support.fake_oanda.server import FakeServer

DEFAULT_TOKEN = "fake-token-0123456789abcdef"
DEFAULT_ACCOUNT = "101-004-1000001-001"


class FakeOanda:
    """Server + control handle. Symbols may be given as EURUSD or EUR_USD."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        hedging: bool = False,
        fifo: bool = True,
        token: str = DEFAULT_TOKEN,
        account_id: str = DEFAULT_ACCOUNT,
        other_accounts: Iterable[str] = (),
        balance: Decimal | str = "100000",
        currency: str = "USD",
        heartbeat_interval: float = 5.0,
        max_streams: int = 20,
        instruments: Iterable[FakeInstrument] = DEFAULT_INSTRUMENTS,
        synthetic_candles: bool = True,
        mt4_accounts: Iterable[str] = (),
    ) -> None:
        """``synthetic_candles``: serve a deterministic history for every granularity where no test stored
        candles. ``mt4_accounts``: accounts listed as linked to MetaTrader 4 (they carry ``mt4AccountID``)."""
        accounts = [account_id, *other_accounts]
        self.broker = FakeBroker(
            accounts=accounts,
            tokens={token: accounts},
            hedging=hedging,
            fifo=fifo,
            balance=Decimal(balance),
            currency=currency,
            instruments=instruments,
        )
        self.broker.synthetic_candles = synthetic_candles
        for number, mt4 in enumerate(mt4_accounts, start=1):
            self.broker.accounts[mt4].mt4_account_id = 7_000_000 + number
        self.token = token
        self.account_id = account_id
        self.server = FakeServer(
            (host, port), self.broker, heartbeat_interval=heartbeat_interval, max_streams=max_streams
        )
        self._thread: threading.Thread | None = None

    @classmethod
    def start(cls, **kwargs: Any) -> FakeOanda:
        """Create and serve in a background thread; returns the handle (``.url`` is the base URL)."""
        fake = cls(**kwargs)
        fake._thread = threading.Thread(
            target=fake.server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-oanda", daemon=True
        )
        fake._thread.start()
        return fake

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    def stop(self) -> None:
        self.server.stopping.set()
        with self.broker.lock:
            self.broker.price_changed.notify_all()
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOanda:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- market ---------------------------------------------------------------------------------

    def set_price(self, symbol: str, bid: Decimal | str, ask: Decimal | str) -> None:
        self.broker.set_price(to_broker_symbol(symbol), bid, ask)

    def set_price_path(self, symbol: str, path: Iterable[tuple[Decimal | str, Decimal | str]]) -> None:
        self.broker.set_price_path(to_broker_symbol(symbol), path)

    def advance(self, symbol: str | None = None, steps: int = 1) -> None:
        self.broker.advance(to_broker_symbol(symbol) if symbol else None, steps)

    def set_tradeable(self, symbol: str, tradeable: bool) -> None:
        self.broker.set_tradeable(to_broker_symbol(symbol), tradeable)

    def set_time(self, when: datetime) -> None:
        """Set the fake's clock (candles, prices and transactions are stamped with it; it keeps running)."""
        self.broker.set_time(when)

    def advance_time(self, seconds: float) -> None:
        """Move the fake clock forward (GTD expiry) and run triggers."""
        self.broker.advance_time(seconds)

    def price(self, symbol: str) -> tuple[Decimal, Decimal]:
        with self.broker.lock:
            return self.broker.prices[to_broker_symbol(symbol)]

    def set_margin_available(self, amount: Decimal | str | None, account_id: str | None = None) -> None:
        """Report (and check orders against) this margin available; None: NAV minus margin used again."""
        with self.broker.lock:
            self.account(account_id).margin_available = None if amount is None else Decimal(amount)

    def set_candles(self, symbol: str, granularity: str, candles: Iterable[dict[str, Any]]) -> None:
        self.broker.set_candles(to_broker_symbol(symbol), granularity, candles)

    # -- faults ---------------------------------------------------------------------------------

    def inject(
        self,
        kind: str,
        *,
        method: str | None = None,
        path: str | None = None,
        times: int = 1,
        status: int = 500,
        seconds: float = 0.0,
        retry_after: float | None = None,
    ) -> Fault:
        """Fault the next ``times`` matching requests. Kinds: latency (``seconds``), status (``status``, e.g.
        500/503/429 with ``retry_after``), drop_before (close without processing), drop_after (process, then
        close without answering), malformed (process, answer broken JSON)."""
        if kind not in REST_FAULTS:
            raise ValueError(f"unknown fault {kind!r}; one of {sorted(REST_FAULTS)}")
        fault = Fault(
            kind=kind, method=method, path=path, times=times, status=status, seconds=seconds, retry_after=retry_after
        )
        with self.server.meta_lock:
            self.server.faults.append(fault)
        return fault

    def inject_stream(self, kind: str, *, after: int = 0, times: int = 1, seconds: float = 0.0) -> Fault:
        """Fault the next ``times`` stream connections after ``after`` messages. Kinds: stall (silence for
        ``seconds``, default 30), drop (close mid-line), half_lines (every line split over two chunks),
        malformed (one garbage line), reject (429 instead of a stream)."""
        if kind not in STREAM_FAULTS:
            raise ValueError(f"unknown stream fault {kind!r}; one of {sorted(STREAM_FAULTS)}")
        fault = Fault(kind=kind, times=times, after=after, seconds=seconds)
        with self.server.meta_lock:
            self.server.stream_faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self.server.meta_lock:
            self.server.faults.clear()
            self.server.stream_faults.clear()

    # -- inspection -----------------------------------------------------------------------------

    @property
    def requests(self) -> list[SeenRequest]:
        with self.server.meta_lock:
            return list(self.server.seen)

    def count(self, method: str, path_suffix: str) -> int:
        """How many requests with this method had a path ending in ``path_suffix``."""
        return sum(1 for r in self.requests if r.method == method and r.path.endswith(path_suffix))

    @property
    def connection_times(self) -> list[float]:
        """When each TCP connection was accepted (time.monotonic() of this process), oldest first."""
        with self.server.meta_lock:
            return list(self.server.connection_times)

    def throttle(self, limit: int | None, window: float = 1.0) -> None:
        """Answer 429 to every request beyond ``limit`` served in any ``window`` seconds (None: stop)."""
        with self.server.meta_lock:
            self.server.throttle = Throttle(limit, window) if limit is not None else None

    @property
    def stream_connections(self) -> int:
        return self.server.stream_connections

    def account(self, account_id: str | None = None) -> Account:
        return self.broker.accounts[account_id or self.account_id]

    def transactions(self, account_id: str | None = None, *, type: str | None = None) -> list[dict[str, Any]]:  # noqa: A002
        with self.broker.lock:
            rows = self.account(account_id).transactions
            return [dict(t) for t in rows if type is None or t["type"] == type]

    def open_trades(self, account_id: str | None = None) -> list[dict[str, Any]]:
        with self.broker.lock:
            return [dict(t) for t in self.broker._open_trades(self.account(account_id), None)]

    def daily_financing(
        self,
        account_id: str | None = None,
        *,
        annual_rate: Decimal | str = "-0.0100",
        amounts: dict[str, Decimal] | None = None,
    ) -> dict[str, Any] | None:
        """Charge one day of financing on every open trade (OANDA's 17:00 New York DAILY_FINANCING)."""
        return daily_financing(self.broker, self.account(account_id), annual_rate=Decimal(annual_rate), amounts=amounts)

    def open_trade_external(self, symbol: str, units: int | str, account_id: str | None = None) -> str:
        """Open a trade as if placed by hand on OANDA's platform (no client extensions); returns its id."""
        acct = self.account(account_id)
        status, body = self.broker.create_order(
            acct, {"order": {"type": "MARKET", "instrument": to_broker_symbol(symbol), "units": str(units)}}
        )
        fill = body.get("orderFillTransaction") or {}
        if status != 201 or not fill.get("tradeOpened"):
            raise RuntimeError(f"external trade was not opened: {body}")
        return str(fill["tradeOpened"]["tradeID"])
