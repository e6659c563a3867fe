"""How the fake fills: entry orders at market (netting against opposite trades on non-hedging accounts),
dependent SL/TP/trailing orders, and the triggers that run on every price move."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from brokers.oanda.timefmt import parse_time
from tests.support.fake_oanda.account import Account
from tests.support.fake_oanda.common import (
    DEPENDENT_TYPES,
    MONEY,
    ON_FILL_KEYS,
    TRADE_LINK,
    USER_ID,
    J,
    money,
    parse_dec,
    units_str,
)
from tests.support.fake_oanda.core import BrokerCore


class FillsMixin(BrokerCore):
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

    def _fill_entry(self, acct: Account, order: J, batch: str, reason: str) -> J:
        """Fill an entry order at market: net against opposite trades (non-hedging), open the rest."""
        name = order["instrument"]
        bid, ask = self.prices[name]
        units = Decimal(order["units"])
        price = ask if units > 0 else bid
        if not self.tradeable[name]:
            return {"orderCancelTransaction": self._cancel(acct, order, "MARKET_HALTED", batch)}
        bound = parse_dec(order.get("priceBound"))
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
            sl = parse_dec((order.get("stopLossOnFill") or {}).get("price"))
            tp = parse_dec((order.get("takeProfitOnFill") or {}).get("price"))
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
            if self._margin(acct, name, remaining) > self.margin_available(acct):
                return {"orderCancelTransaction": self._cancel(acct, order, "INSUFFICIENT_MARGIN", batch)}
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
