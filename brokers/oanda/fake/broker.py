"""The fake OANDA's trading state: accounts, orders, trades and the transaction log.

Everything is kept in OANDA's JSON shapes (strings for numbers, RFC3339 times) so the HTTP layer only
routes. All public methods take ``self.lock``; prices move only through ``set_price``/``advance`` and
every move runs the pending-order and SL/TP/trailing triggers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from brokers.oanda.fake.common import (
    DEPENDENT_TYPES,
    ENTRY_TYPES,
    MONEY,
    ON_FILL_KEYS,
    TRADE_LINK,
    TRADE_ORDER_KEYS,
    USER_ID,
    J,
    Reply,
    money,
    units_str,
)
from brokers.oanda.fake.instruments import DEFAULT_INSTRUMENTS, FakeInstrument
from brokers.oanda.fake.views import ViewsMixin
from brokers.oanda.timefmt import format_rfc3339, parse_time


@dataclass
class Account:
    id: str
    currency: str
    balance: Decimal
    hedging: bool
    fifo: bool
    alias: str = "Primary"
    last_id: int = 0
    created: str = ""
    transactions: list[J] = field(default_factory=list)
    orders: dict[str, J] = field(default_factory=dict)
    trades: dict[str, J] = field(default_factory=dict)
    pl: Decimal = Decimal("0")

    def next_id(self) -> str:
        self.last_id += 1
        return str(self.last_id)

    def next_id_peek(self) -> str:
        return str(self.last_id + 1)

    @property
    def last(self) -> str:
        return str(self.last_id)


class FakeBroker(ViewsMixin):
    """State of one fake OANDA environment (several accounts, shared prices)."""

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

    # -- order creation -------------------------------------------------------------------------

    def create_order(self, acct: Account, body: J) -> tuple[int, J]:
        with self.lock:
            req = body.get("order")
            if not isinstance(req, dict):
                raise Reply(400, {"errorMessage": "The request was missing required data"})
            otype = req.get("type")
            if otype not in ENTRY_TYPES:
                raise Reply(400, {"errorMessage": "Invalid value specified for 'order.type'"})
            name = req.get("instrument")
            if name not in self.instruments:
                raise Reply(400, {"errorMessage": "Invalid value specified for 'order.instrument'"})
            inst = self.instruments[name]
            fields = self._order_fields(req, otype)
            units = _dec(req.get("units"))
            if units is None or units == 0:
                raise self._reject(acct, otype, "UNITS_INVALID", "Order units specified are invalid", fields)
            if units != units.quantize(Decimal(1).scaleb(-inst.units_precision)):
                raise self._reject(acct, otype, "UNITS_PRECISION_EXCEEDED", "Order units precision exceeded", fields)
            tif = fields["timeInForce"]
            if otype == "MARKET" and tif not in ("FOK", "IOC"):
                raise self._reject(acct, otype, "TIME_IN_FORCE_INVALID", "Time in force is invalid", fields)
            if otype != "MARKET":
                price = _dec(req.get("price"))
                if price is None or price <= 0:
                    raise self._reject(acct, otype, "PRICE_INVALID", "Order price is invalid", fields)
                if _places(price) > inst.display_precision:
                    raise self._reject(acct, otype, "PRICE_PRECISION_EXCEEDED", "Price precision exceeded", fields)
                if tif == "GTD":
                    gtd = req.get("gtdTime")
                    if not gtd:
                        raise self._reject(
                            acct, otype, "TIME_IN_FORCE_GTD_TIMESTAMP_MISSING", "gtdTime missing", fields
                        )
                    if parse_time(gtd) <= self.now():
                        raise self._reject(
                            acct, otype, "TIME_IN_FORCE_GTD_TIMESTAMP_IN_PAST", "gtdTime in past", fields
                        )
            for key, dep in ON_FILL_KEYS.items():
                spec = req.get(key)
                if not spec:
                    continue
                value = _dec(spec.get("price") if dep != "TRAILING_STOP_LOSS" else spec.get("distance"))
                if value is None:
                    raise self._reject(acct, otype, f"{dep}_ON_FILL_PRICE_MISSING", f"{key} invalid", fields)
                if _places(value) > inst.display_precision:
                    raise self._reject(
                        acct,
                        otype,
                        f"{dep}_ON_FILL_PRICE_PRECISION_EXCEEDED",
                        f"{key} price precision exceeded",
                        fields,
                    )
            client_id = (req.get("clientExtensions") or {}).get("id")
            if client_id and any(
                (o.get("clientExtensions") or {}).get("id") == client_id
                for o in acct.orders.values()
                if o["state"] == "PENDING"
            ):
                raise self._reject(
                    acct,
                    otype,
                    "CLIENT_ORDER_ID_ALREADY_EXISTS",
                    "The client Order ID specified is already assigned to another pending Order",
                    fields,
                )

            create = self._txn(acct, f"{otype}_ORDER", batch=None, **fields)
            batch = create["id"]
            order = {"id": batch, "createTime": create["time"], "state": "PENDING", **fields}
            order.pop("reason", None)
            if otype == "MARKET_IF_TOUCHED":
                bid, ask = self.prices[name]
                order["initialMarketPrice"] = f"{(bid + ask) / 2:f}"
            acct.orders[batch] = order
            out: J = {"orderCreateTransaction": create}
            if otype == "MARKET":
                out.update(self._fill_entry(acct, order, batch, "MARKET_ORDER"))
            else:
                out.update(self._maybe_trigger_entry(acct, order, batch))
            related = [t["id"] for t in acct.transactions if t["batchID"] == batch]
            out["relatedTransactionIDs"] = related
            out["lastTransactionID"] = acct.last
            return 201, out

    def _order_fields(self, req: J, otype: str) -> J:
        tif = req.get("timeInForce") or ("FOK" if otype == "MARKET" else "GTC")
        fields: J = {
            "instrument": req.get("instrument"),
            "units": req.get("units"),
            "timeInForce": tif,
            "positionFill": req.get("positionFill", "DEFAULT"),
            "reason": "CLIENT_ORDER",
            "type": otype,
        }
        for key in (
            "price",
            "priceBound",
            "gtdTime",
            "clientExtensions",
            "tradeClientExtensions",
            "takeProfitOnFill",
            "stopLossOnFill",
            "trailingStopLossOnFill",
        ):
            if req.get(key) is not None:
                fields[key] = req[key]
        if otype != "MARKET":
            fields["triggerCondition"] = req.get("triggerCondition", "DEFAULT")
            fields["partialFill"] = "DEFAULT"
        return fields

    def _maybe_trigger_entry(self, acct: Account, order: J, batch: str) -> J:
        if self._entry_triggered(order) and self.tradeable[order["instrument"]]:
            reason = f"{order['type']}_ORDER"
            return self._fill_entry(acct, order, batch, reason)
        return {}

    def _entry_triggered(self, order: J) -> bool:
        bid, ask = self.prices[order["instrument"]]
        price = Decimal(order["price"])
        buy = Decimal(order["units"]) > 0
        market = ask if buy else bid
        otype = order["type"]
        if otype == "LIMIT":
            return market <= price if buy else market >= price
        if otype == "STOP":
            return market >= price if buy else market <= price
        # MARKET_IF_TOUCHED: fires when the market reaches the price from where it was at creation
        start = Decimal(order["initialMarketPrice"])
        return (market <= price) if price <= start else (market >= price)

    # -- fills ----------------------------------------------------------------------------------

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

    def _fill_entry(self, acct: Account, order: J, batch: str, reason: str) -> J:
        """Fill an entry order at market: net against opposite trades (non-hedging), open the rest."""
        name = order["instrument"]
        bid, ask = self.prices[name]
        units = Decimal(order["units"])
        price = ask if units > 0 else bid
        if not self.tradeable[name]:
            return {"orderCancelTransaction": self._cancel(acct, order, "MARKET_HALTED", batch)}
        bound = _dec(order.get("priceBound"))
        if bound is not None and ((units > 0 and price > bound) or (units < 0 and price < bound)):
            return {"orderCancelTransaction": self._cancel(acct, order, "BOUNDS_VIOLATION", batch)}
        closes: list[tuple[J, Decimal]] = []
        remaining = abs(units)
        position_fill = order.get("positionFill", "DEFAULT")
        reduce_first = position_fill in ("REDUCE_FIRST", "REDUCE_ONLY") or (
            position_fill == "DEFAULT" and not acct.hedging
        )
        if reduce_first:
            for trade in self._open_trades(acct, name):
                if remaining == 0:
                    break
                current = Decimal(trade["currentUnits"])
                if (current > 0) == (units > 0):
                    continue
                take = min(remaining, abs(current))
                closes.append((trade, take))
                remaining -= take
        if position_fill == "REDUCE_ONLY":
            remaining = Decimal("0")
        opening = remaining > 0
        has_dependents = any(order.get(k) for k in ON_FILL_KEYS)
        if opening:
            sl = _dec((order.get("stopLossOnFill") or {}).get("price"))
            tp = _dec((order.get("takeProfitOnFill") or {}).get("price"))
            long = units > 0
            if sl is not None and ((long and sl >= bid) or (not long and sl <= ask)):
                return {"orderCancelTransaction": self._cancel(acct, order, "STOP_LOSS_ON_FILL_LOSS", batch)}
            if tp is not None and ((long and tp <= ask) or (not long and tp >= bid)):
                return {"orderCancelTransaction": self._cancel(acct, order, "TAKE_PROFIT_ON_FILL_LOSS", batch)}
            trade_client_id = (order.get("tradeClientExtensions") or {}).get("id")
            if trade_client_id and any(
                (t.get("clientExtensions") or {}).get("id") == trade_client_id for t in self._open_trades(acct, None)
            ):
                return {"orderCancelTransaction": self._cancel(acct, order, "CLIENT_TRADE_ID_ALREADY_EXISTS", batch)}
            if acct.fifo:
                for trade in self._open_trades(acct, name):
                    same_side = (Decimal(trade["currentUnits"]) > 0) == long
                    same_size = abs(Decimal(trade["currentUnits"])) == remaining
                    trade_protected = any(trade.get(link) for link in TRADE_LINK.values())
                    if same_side and same_size and (has_dependents or trade_protected):
                        return {
                            "orderCancelTransaction": self._cancel(
                                acct, order, "FIFO_VIOLATION_SAFEGUARD_VIOLATION", batch
                            )
                        }
        signed_open = remaining if units > 0 else -remaining
        return self._execute_fill(acct, order, batch, reason, price, closes, signed_open)

    def _execute_fill(
        self,
        acct: Account,
        order: J,
        batch: str,
        reason: str,
        price: Decimal,
        closes: list[tuple[J, Decimal]],
        open_units: Decimal,
    ) -> J:
        name = order.get("instrument") or closes[0][0]["instrument"]
        bid, ask = self.prices[name]
        half_spread = (ask - bid) / 2
        fill_id = acct.next_id()
        now = self.now_str()
        total_pl = Decimal("0")
        closed: list[J] = []
        reduced: J | None = None
        linked_cancels: list[J] = []
        filled_units = Decimal("0")
        for trade, take in closes:
            current = Decimal(trade["currentUnits"])
            sign = 1 if current > 0 else -1
            open_price = Decimal(trade["price"])
            pl = self.to_account_ccy(acct, name, (price - open_price) * take * sign).quantize(MONEY, ROUND_HALF_EVEN)
            total_pl += pl
            filled_units += -sign * take
            entry = {
                "tradeID": trade["id"],
                "units": units_str(-sign * take),
                "price": f"{price:f}",
                "realizedPL": money(pl),
                "financing": "0.0000",
                "guaranteedExecutionFee": "0.0000",
                "halfSpreadCost": money(self.to_account_ccy(acct, name, half_spread * take)),
            }
            trade["realizedPL"] = money(Decimal(trade["realizedPL"]) + pl)
            trade["currentUnits"] = units_str(current - sign * take)
            trade.setdefault("closingTransactionIDs", []).append(fill_id)
            if Decimal(trade["currentUnits"]) == 0:
                trade["state"] = "CLOSED"
                trade["closeTime"] = now
                trade["averageClosePrice"] = f"{price:f}"
                closed.append(entry)
                for link in TRADE_LINK.values():
                    dep = acct.orders.get(trade.get(link, ""))
                    if dep is not None and dep["state"] == "PENDING" and dep["id"] != order["id"]:
                        linked_cancels.append(dep)
            else:
                trade["averageClosePrice"] = f"{price:f}"
                reduced = entry
        filled_units += open_units
        acct.balance += total_pl
        acct.pl += total_pl
        cost = self.to_account_ccy(acct, name, half_spread * abs(filled_units))
        fill: J = {
            "id": fill_id,
            "time": now,
            "userID": USER_ID,
            "accountID": acct.id,
            "batchID": batch,
            "requestID": f"2{fill_id.zfill(17)}",
            "type": "ORDER_FILL",
            "orderID": order["id"],
            "instrument": name,
            "units": units_str(filled_units),
            "requestedUnits": order.get("units"),
            "price": f"{price:f}",
            "fullVWAP": f"{price:f}",
            "reason": reason,
            "pl": money(total_pl),
            "financing": "0.0000",
            "commission": "0.0000",
            "guaranteedExecutionFee": "0.0000",
            "accountBalance": money(acct.balance),
            "halfSpreadCost": money(cost),
            "fullPrice": {
                "type": "PRICE",
                "bids": [{"price": f"{bid:f}", "liquidity": 10000000}],
                "asks": [{"price": f"{ask:f}", "liquidity": 10000000}],
                "closeoutBid": f"{bid:f}",
                "closeoutAsk": f"{ask:f}",
                "time": now,
            },
        }
        client_id = (order.get("clientExtensions") or {}).get("id")
        if client_id:
            fill["clientOrderID"] = client_id
        if closed:
            fill["tradesClosed"] = closed
        if reduced:
            fill["tradeReduced"] = reduced
        order["state"] = "FILLED"
        order["fillingTransactionID"] = fill_id
        order["filledTime"] = now
        if closed:
            order["tradeClosedIDs"] = [c["tradeID"] for c in closed]
        if reduced:
            order["tradeReducedID"] = reduced["tradeID"]
        out: J = {"orderFillTransaction": fill}
        if open_units != 0:
            trade_ext = order.get("tradeClientExtensions")
            opened = {
                "tradeID": fill_id,
                "units": units_str(open_units),
                "price": f"{price:f}",
                "guaranteedExecutionFee": "0.0000",
                "halfSpreadCost": money(self.to_account_ccy(acct, name, half_spread * abs(open_units))),
                "initialMarginRequired": money(self._margin(acct, name, open_units)),
            }
            if trade_ext:
                opened["clientExtensions"] = trade_ext
            fill["tradeOpened"] = opened
            order["tradeOpenedID"] = fill_id
            trade = {
                "id": fill_id,
                "instrument": name,
                "price": f"{price:f}",
                "openTime": now,
                "state": "OPEN",
                "initialUnits": units_str(open_units),
                "initialMarginRequired": opened["initialMarginRequired"],
                "currentUnits": units_str(open_units),
                "realizedPL": "0.0000",
                "financing": "0.0000",
                "dividendAdjustment": "0.0000",
            }
            if trade_ext:
                trade["clientExtensions"] = trade_ext
            acct.trades[fill_id] = trade
        acct.transactions.append(fill)
        for dep in linked_cancels:
            self._cancel(acct, dep, "LINKED_TRADE_CLOSED", batch)
        if open_units != 0:
            trade_client_id = (order.get("tradeClientExtensions") or {}).get("id")
            for key, dep_type in ON_FILL_KEYS.items():
                spec = order.get(key)
                if spec:
                    self._create_dependent(
                        acct, acct.trades[fill_id], dep_type, spec, batch, "ON_FILL", trade_client_id
                    )
        return out

    def _margin(self, acct: Account, name: str, units: Decimal) -> Decimal:
        inst = self.instruments[name]
        base = name.split("_")[0]
        value = abs(units) if base == acct.currency else abs(units) * self._mid(name)
        if base != acct.currency:
            value = self.to_account_ccy(acct, name, value)
        return value * inst.margin_rate

    def _create_dependent(
        self,
        acct: Account,
        trade: J,
        dep_type: str,
        spec: J,
        batch: str | None,
        reason: str,
        client_trade_id: str | None,
        replaces: str | None = None,
    ) -> J:
        fields: J = {
            "tradeID": trade["id"],
            "timeInForce": spec.get("timeInForce", "GTC"),
            "triggerCondition": "DEFAULT",
            "reason": reason,
            "clientTradeID": client_trade_id,
            "gtdTime": spec.get("gtdTime"),
            "clientExtensions": spec.get("clientExtensions"),
            "replacesOrderID": replaces,
        }
        if dep_type == "TRAILING_STOP_LOSS":
            fields["distance"] = spec["distance"]
        else:
            fields["price"] = spec["price"]
        txn = self._txn(acct, f"{dep_type}_ORDER", batch=batch, **fields)
        order = {
            k: v for k, v in txn.items() if k not in ("userID", "accountID", "batchID", "requestID", "reason", "time")
        }
        order.update({"type": dep_type, "createTime": txn["time"], "state": "PENDING"})
        if dep_type == "TRAILING_STOP_LOSS":
            order["trailingStopValue"] = f"{self._trail_value(trade, Decimal(spec['distance'])):f}"
        acct.orders[txn["id"]] = order
        trade[TRADE_LINK[dep_type]] = txn["id"]
        return txn

    def _trail_value(self, trade: J, distance: Decimal) -> Decimal:
        bid, ask = self.prices[trade["instrument"]]
        return bid - distance if Decimal(trade["currentUnits"]) > 0 else ask + distance

    def _open_trades(self, acct: Account, name: str | None) -> list[J]:
        trades = [t for t in acct.trades.values() if t["state"] == "OPEN" and (name is None or t["instrument"] == name)]
        return sorted(trades, key=lambda t: int(t["id"]))

    # -- triggers -------------------------------------------------------------------------------

    def run_triggers(self) -> None:
        """Expire GTD orders, fill triggered entry orders and SL/TP/trailing stops, oldest order first."""
        with self.lock:
            now = self.now()
            for acct in self.accounts.values():
                for order in sorted(acct.orders.values(), key=lambda o: int(o["id"])):
                    if order["state"] != "PENDING":
                        continue
                    if (
                        order.get("timeInForce") == "GTD"
                        and order.get("gtdTime")
                        and parse_time(order["gtdTime"]) <= now
                    ):
                        self._cancel(acct, order, "TIME_IN_FORCE_EXPIRED", None)
                        continue
                    if order["type"] in DEPENDENT_TYPES:
                        self._check_dependent(acct, order)
                    elif self.tradeable.get(order["instrument"], False) and self._entry_triggered(order):
                        self._fill_entry(acct, order, acct.next_id_peek(), f"{order['type']}_ORDER")

    def _check_dependent(self, acct: Account, order: J) -> None:
        trade = acct.trades.get(order["tradeID"])
        if trade is None or trade["state"] != "OPEN":
            return
        name = trade["instrument"]
        if not self.tradeable.get(name, False):
            return
        bid, ask = self.prices[name]
        long = Decimal(trade["currentUnits"]) > 0
        market = bid if long else ask
        otype = order["type"]
        if otype == "TRAILING_STOP_LOSS":
            distance = Decimal(order["distance"])
            value = Decimal(order["trailingStopValue"])
            value = max(value, bid - distance) if long else min(value, ask + distance)
            order["trailingStopValue"] = f"{value:f}"
            hit = market <= value if long else market >= value
        elif otype == "STOP_LOSS":
            level = Decimal(order["price"])
            hit = market <= level if long else market >= level
        else:
            level = Decimal(order["price"])
            hit = market >= level if long else market <= level
        if hit:
            units = abs(Decimal(trade["currentUnits"]))
            self._execute_fill(
                acct, order, acct.next_id_peek(), f"{otype}_ORDER", market, [(trade, units)], Decimal("0")
            )

    # -- trade operations -----------------------------------------------------------------------

    def find_trade(self, acct: Account, spec: str, *, open_only: bool = False) -> J:
        trade: J | None = None
        if spec.startswith("@"):
            cid = spec[1:]
            trade = next(
                (t for t in self._open_trades(acct, None) if (t.get("clientExtensions") or {}).get("id") == cid), None
            )
        else:
            trade = acct.trades.get(spec)
        if trade is None or (open_only and trade["state"] != "OPEN"):
            raise Reply(
                404,
                {
                    "lastTransactionID": acct.last,
                    "errorCode": "NO_SUCH_TRADE",
                    "errorMessage": "The trade ID specified does not exist",
                },
            )
        return trade

    def close_trade(self, acct: Account, spec: str, body: J) -> tuple[int, J]:
        with self.lock:
            trade = self.find_trade(acct, spec, open_only=True)
            current = Decimal(trade["currentUnits"])
            sign = 1 if current > 0 else -1
            requested = (body or {}).get("units", "ALL")
            take = abs(current) if requested == "ALL" else _dec(requested)
            market = {
                "type": "MARKET",
                "instrument": trade["instrument"],
                "timeInForce": "FOK",
                "positionFill": "REDUCE_ONLY",
                "reason": "TRADE_CLOSE",
                "tradeClose": {"tradeID": trade["id"], "units": str(requested)},
            }
            if take is None or take <= 0:
                raise self._reject(
                    acct, "MARKET", "CLOSE_TRADE_UNITS_INVALID", "Units invalid", {**market, "units": "0"}
                )
            if take > abs(current):
                raise self._reject(
                    acct,
                    "MARKET",
                    "CLOSE_TRADE_UNITS_EXCEED_TRADE_SIZE",
                    "The units specified exceed the size of the trade",
                    {**market, "units": units_str(-sign * take)},
                )
            market["units"] = units_str(-sign * take)
            create = self._txn(acct, "MARKET_ORDER", batch=None, **market)
            batch = create["id"]
            order = {"id": batch, "createTime": create["time"], "state": "PENDING", **market}
            acct.orders[batch] = order
            out: J = {"orderCreateTransaction": create}
            name = trade["instrument"]
            older_same = acct.fifo and any(
                int(t["id"]) < int(trade["id"]) and t["currentUnits"] == trade["currentUnits"]
                for t in self._open_trades(acct, name)
            )
            if not self.tradeable[name]:
                out["orderCancelTransaction"] = self._cancel(acct, order, "MARKET_HALTED", batch)
            elif older_same:
                out["orderCancelTransaction"] = self._cancel(acct, order, "FIFO_VIOLATION_SAFEGUARD_VIOLATION", batch)
            else:
                bid, ask = self.prices[name]
                price = bid if sign > 0 else ask
                out.update(
                    self._execute_fill(
                        acct, order, batch, "MARKET_ORDER_TRADE_CLOSE", price, [(trade, take)], Decimal("0")
                    )
                )
            out["relatedTransactionIDs"] = [t["id"] for t in acct.transactions if t["batchID"] == batch]
            out["lastTransactionID"] = acct.last
            return 200, out

    def set_trade_orders(self, acct: Account, spec: str, body: J) -> tuple[int, J]:
        with self.lock:
            trade = self.find_trade(acct, spec, open_only=True)
            inst = self.instruments[trade["instrument"]]
            for key, dep_type in TRADE_ORDER_KEYS.items():
                value = (body or {}).get(key)
                if value:
                    number = _dec(value.get("distance" if dep_type == "TRAILING_STOP_LOSS" else "price"))
                    if number is None or _places(number) > inst.display_precision:
                        raise self._reject(
                            acct,
                            dep_type,
                            "PRICE_PRECISION_EXCEEDED",
                            "Price precision exceeded",
                            {"tradeID": trade["id"], **value},
                            key=f"{key}OrderRejectTransaction",
                        )
            out: J = {}
            batch: str | None = None
            client_trade_id = (trade.get("clientExtensions") or {}).get("id")
            for key, dep_type in TRADE_ORDER_KEYS.items():
                if key not in (body or {}):
                    continue
                value = body[key]
                existing = acct.orders.get(trade.get(TRADE_LINK[dep_type], ""))
                if existing is not None and existing["state"] != "PENDING":
                    existing = None
                if value is None:
                    if existing is not None:
                        txn = self._cancel(acct, existing, "CLIENT_REQUEST", batch)
                        batch = batch or txn["id"]
                        out[f"{key}OrderCancelTransaction"] = txn
                    continue
                replaces = None
                if existing is not None:
                    txn = self._cancel(acct, existing, "CLIENT_REQUEST_REPLACED", batch)
                    batch = batch or txn["id"]
                    out[f"{key}OrderCancelTransaction"] = txn
                    replaces = existing["id"]
                txn = self._create_dependent(
                    acct,
                    trade,
                    dep_type,
                    value,
                    batch,
                    "REPLACEMENT" if replaces else "CLIENT_ORDER",
                    client_trade_id,
                    replaces,
                )
                batch = batch or txn["id"]
                out[f"{key}OrderTransaction"] = txn
            before = acct.last_id
            self.run_triggers()
            for txn in acct.transactions:
                if int(txn["id"]) > before and txn["type"] == "ORDER_FILL":
                    out[f"{_key_for(txn['reason'])}OrderFillTransaction"] = txn
            out["relatedTransactionIDs"] = [t["id"] for t in acct.transactions if batch and t["batchID"] == batch]
            out["lastTransactionID"] = acct.last
            return 200, out

    # -- order operations -----------------------------------------------------------------------

    def find_order(self, acct: Account, spec: str) -> J | None:
        if spec.startswith("@"):
            # Like OANDA, a client id resolves only among pending orders.
            cid = spec[1:]
            return next(
                (
                    o
                    for o in acct.orders.values()
                    if o["state"] == "PENDING" and (o.get("clientExtensions") or {}).get("id") == cid
                ),
                None,
            )
        return acct.orders.get(spec)

    def cancel_order(self, acct: Account, spec: str) -> tuple[int, J]:
        with self.lock:
            order = self.find_order(acct, spec)
            if order is None or order["state"] != "PENDING":
                txn = self._txn(
                    acct,
                    "ORDER_CANCEL_REJECT",
                    batch=None,
                    orderID=spec if not spec.startswith("@") else None,
                    clientOrderID=spec[1:] if spec.startswith("@") else None,
                    rejectReason="ORDER_DOESNT_EXIST",
                )
                raise Reply(
                    404,
                    {
                        "orderCancelRejectTransaction": txn,
                        "relatedTransactionIDs": [txn["id"]],
                        "lastTransactionID": acct.last,
                        "errorCode": "ORDER_DOESNT_EXIST",
                        "errorMessage": "The Order specified does not exist",
                    },
                )
            txn = self._cancel(acct, order, "CLIENT_REQUEST", None)
            return 200, {
                "orderCancelTransaction": txn,
                "relatedTransactionIDs": [txn["id"]],
                "lastTransactionID": acct.last,
            }


def _key_for(reason: str) -> str:
    return {
        "STOP_LOSS_ORDER": "stopLoss",
        "TAKE_PROFIT_ORDER": "takeProfit",
        "TRAILING_STOP_LOSS_ORDER": "trailingStopLoss",
    }.get(reason, "order")


def _dec(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0
