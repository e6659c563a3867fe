"""The fake OANDA's state and primitives: clock, accounts, prices, the transaction log, cancels and margin.

Everything is kept in OANDA's JSON shapes (strings for numbers, RFC3339 times) so the HTTP layer only
routes. All public methods take ``self.lock``; prices move only through ``set_price``/``advance`` and
every move runs the pending-order and SL/TP/trailing triggers (``run_triggers``, in ``fills``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from brokers.oanda.timefmt import format_rfc3339
from tests.support.fake_oanda.account import Account
from tests.support.fake_oanda.common import TRADE_LINK, USER_ID, J, Reply, money
from tests.support.fake_oanda.instruments import DEFAULT_INSTRUMENTS, FakeInstrument


class BrokerCore:
    """State of one fake OANDA environment (several accounts, shared prices) and the primitives every part uses."""

    def __init__(
        self,
        *,
        accounts: Iterable[str] = ("101-004-1000001-001",),
        tokens: dict[str, Iterable[str]] | None = None,
        hedging: bool = False,
        fifo: bool = True,
        balance: Decimal = Decimal("100000"),
        currency: str = "USD",
        instruments: Iterable[FakeInstrument] = DEFAULT_INSTRUMENTS,
    ) -> None:
        self.lock = threading.RLock()
        self.price_changed = threading.Condition(self.lock)
        self.instruments = {i.name: i for i in instruments}
        self.prices: dict[str, tuple[Decimal, Decimal]] = {i.name: (i.bid, i.ask) for i in self.instruments.values()}
        self.price_times: dict[str, str] = {}
        self.tradeable: dict[str, bool] = {name: True for name in self.instruments}
        self.price_version = 0
        self.paths: dict[str, list[tuple[Decimal, Decimal]]] = {}
        self.time_offset = timedelta(0)
        self.candles: dict[tuple[str, str], list[J]] = {}
        self.candle_times: dict[tuple[str, str], list[datetime]] = {}
        self.accounts: dict[str, Account] = {}
        for account_id in accounts:
            self.add_account(account_id, hedging=hedging, fifo=fifo, balance=balance, currency=currency)
        self.tokens: dict[str, set[str]] = {}
        for token, ids in (tokens or {"fake-token": list(self.accounts)}).items():
            self.tokens[token] = set(ids)
        now = self.now_str()
        for name in self.instruments:
            self.price_times[name] = now

    # -- clock and accounts ---------------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.now(UTC) + self.time_offset

    def set_time(self, when: datetime) -> None:
        """Make the fake's clock read ``when`` now (it keeps running from there)."""
        with self.lock:
            self.time_offset = when - datetime.now(UTC)

    def now_str(self) -> str:
        return format_rfc3339(self.now())

    def add_account(
        self,
        account_id: str,
        *,
        hedging: bool = False,
        fifo: bool = True,
        balance: Decimal = Decimal("100000"),
        currency: str = "USD",
    ) -> Account:
        with self.lock:
            acct = Account(
                id=account_id,
                currency=currency,
                balance=Decimal("0"),
                hedging=hedging,
                fifo=fifo and not hedging,
                created=self.now_str(),
            )
            self.accounts[account_id] = acct
            self._txn(
                acct,
                "CREATE",
                batch=None,
                divisionID=4,
                siteID=101,
                accountUserID=USER_ID,
                accountNumber=1,
                homeCurrency=currency,
            )
            acct.balance = balance
            self._txn(
                acct,
                "TRANSFER_FUNDS",
                batch=None,
                amount=money(balance),
                fundingReason="ADJUSTMENT",
                accountBalance=money(balance),
            )
            return acct

    # -- prices ---------------------------------------------------------------------------------

    def instrument(self, name: str) -> FakeInstrument:
        try:
            return self.instruments[name]
        except KeyError:
            raise Reply(400, {"errorMessage": "Invalid value specified for 'instrument'"}) from None

    def set_price(self, instrument: str, bid: Decimal | str, ask: Decimal | str) -> None:
        """Move the market and run every trigger (pending orders, GTD expiry, SL/TP/trailing)."""
        with self.lock:
            inst = self.instrument(instrument)
            q = Decimal(1).scaleb(-inst.display_precision)
            b, a = Decimal(bid).quantize(q), Decimal(ask).quantize(q)
            if a < b:
                raise ValueError(f"ask {a} below bid {b}")
            self.prices[instrument] = (b, a)
            self.price_times[instrument] = self.now_str()
            self.price_version += 1
            self.run_triggers()
            self.price_changed.notify_all()

    def set_price_path(self, instrument: str, path: Iterable[tuple[Decimal | str, Decimal | str]]) -> None:
        with self.lock:
            self.paths[instrument] = [(Decimal(b), Decimal(a)) for b, a in path]

    def advance(self, instrument: str | None = None, steps: int = 1) -> None:
        """Take the next ``steps`` prices of the scripted path(s)."""
        with self.lock:
            for _ in range(steps):
                for name in [instrument] if instrument else list(self.paths):
                    path = self.paths.get(name) or []
                    if path:
                        bid, ask = path.pop(0)
                        self.set_price(name, bid, ask)

    def set_tradeable(self, instrument: str, tradeable: bool) -> None:
        with self.lock:
            self.tradeable[instrument] = tradeable
            self.price_version += 1
            self.price_changed.notify_all()

    def advance_time(self, seconds: float) -> None:
        with self.lock:
            self.time_offset += timedelta(seconds=seconds)
            self.run_triggers()

    def price_json(self, name: str) -> J:
        bid, ask = self.prices[name]
        inst = self.instruments[name]
        q = Decimal(1).scaleb(-inst.display_precision)
        tradeable = self.tradeable[name]
        return {
            "type": "PRICE",
            "instrument": name,
            "time": self.price_times[name],
            "tradeable": tradeable,
            "status": "tradeable" if tradeable else "non-tradeable",
            "bids": [{"price": f"{bid:f}", "liquidity": 10000000}, {"price": f"{bid - q:f}", "liquidity": 10000000}],
            "asks": [{"price": f"{ask:f}", "liquidity": 10000000}, {"price": f"{ask + q:f}", "liquidity": 10000000}],
            "closeoutBid": f"{bid - q:f}",
            "closeoutAsk": f"{ask + q:f}",
        }

    def to_account_ccy(self, acct: Account, instrument: str, amount: Decimal) -> Decimal:
        """Convert an amount in the instrument's quote currency to the account currency."""
        base, quote = instrument.split("_")
        home = acct.currency
        if quote == home:
            return amount
        if base == home:
            return amount / self._mid(instrument)
        if f"{quote}_{home}" in self.prices:
            return amount * self._mid(f"{quote}_{home}")
        if f"{home}_{quote}" in self.prices:
            return amount / self._mid(f"{home}_{quote}")
        return amount

    def _mid(self, name: str) -> Decimal:
        bid, ask = self.prices[name]
        return (bid + ask) / 2

    # -- transactions ---------------------------------------------------------------------------

    def _txn(self, acct: Account, ttype: str, *, batch: str | None, **fields: Any) -> J:
        tid = acct.next_id()
        txn: J = {
            "id": tid,
            "time": self.now_str(),
            "userID": USER_ID,
            "accountID": acct.id,
            "batchID": batch or tid,
            "requestID": f"2{tid.zfill(17)}",
            "type": ttype,
        }
        txn.update({k: v for k, v in fields.items() if v is not None and k != "type"})
        acct.transactions.append(txn)
        return txn

    def _reject(
        self,
        acct: Account,
        order_type: str,
        reason: str,
        message: str,
        order: J,
        key: str = "orderRejectTransaction",
        status: int = 400,
    ) -> Reply:
        fields = {k: v for k, v in order.items() if k not in ("type",)}
        txn = self._txn(
            acct,
            f"{order_type}_ORDER_REJECT",
            batch=None,
            rejectReason=reason,
            reason=fields.pop("reason", "CLIENT_ORDER"),
            **fields,
        )
        return Reply(
            status,
            {
                key: txn,
                "relatedTransactionIDs": [txn["id"]],
                "lastTransactionID": acct.last,
                "errorCode": reason,
                "errorMessage": message,
            },
        )

    def _cancel(self, acct: Account, order: J, reason: str, batch: str | None) -> J:
        order["state"] = "CANCELLED"
        txn = self._txn(
            acct,
            "ORDER_CANCEL",
            batch=batch,
            orderID=order["id"],
            reason=reason,
            clientOrderID=(order.get("clientExtensions") or {}).get("id"),
        )
        order["cancellingTransactionID"] = txn["id"]
        order["cancelledTime"] = txn["time"]
        trade = acct.trades.get(order.get("tradeID", ""))
        if trade is not None and trade.get(TRADE_LINK.get(order["type"], "")) == order["id"]:
            trade.pop(TRADE_LINK[order["type"]])
        return txn

    def unrealized(self, acct: Account, trade: J) -> Decimal:
        if trade["state"] != "OPEN":
            return Decimal("0")
        bid, ask = self.prices[trade["instrument"]]
        units = Decimal(trade["currentUnits"])
        close = bid if units > 0 else ask
        return self.to_account_ccy(acct, trade["instrument"], (close - Decimal(trade["price"])) * units)

    def margin_available(self, acct: Account) -> Decimal:
        """NAV minus margin used, or what a test set with ``FakeOanda.set_margin_available``."""
        if acct.margin_available is not None:
            return acct.margin_available
        trades = self._open_trades(acct, None)
        nav = acct.balance + sum((self.unrealized(acct, t) for t in trades), Decimal("0"))
        used = sum((self._margin(acct, t["instrument"], Decimal(t["currentUnits"])) for t in trades), Decimal("0"))
        return nav - used

    def _margin(self, acct: Account, name: str, units: Decimal) -> Decimal:
        inst = self.instruments[name]
        base = name.split("_")[0]
        value = abs(units) if base == acct.currency else abs(units) * self._mid(name)
        if base != acct.currency:
            value = self.to_account_ccy(acct, name, value)
        return value * inst.margin_rate

    def _trail_value(self, trade: J, distance: Decimal) -> Decimal:
        bid, ask = self.prices[trade["instrument"]]
        return bid - distance if Decimal(trade["currentUnits"]) > 0 else ask + distance

    def _open_trades(self, acct: Account, name: str | None) -> list[J]:
        trades = [t for t in acct.trades.values() if t["state"] == "OPEN" and (name is None or t["instrument"] == name)]
        return sorted(trades, key=lambda t: int(t["id"]))

    def run_triggers(self) -> None:
        """Expire, trigger and fill what the market reached (implemented in ``fills``)."""
        raise NotImplementedError
