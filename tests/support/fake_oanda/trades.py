"""Trade operations: look a trade up, close it (fully or partly), and set or cancel its SL/TP/trailing orders."""

from __future__ import annotations

from decimal import Decimal

from tests.support.fake_oanda.account import Account
from tests.support.fake_oanda.common import TRADE_LINK, TRADE_ORDER_KEYS, J, Reply, parse_dec, places, units_str
from tests.support.fake_oanda.orders import OrdersMixin


class TradesMixin(OrdersMixin):
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
            take = abs(current) if requested == "ALL" else parse_dec(requested)
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
            if places(take) > self.instruments[trade["instrument"]].units_precision:
                raise self._reject(
                    acct,
                    "MARKET",
                    "UNITS_PRECISION_EXCEEDED",
                    "The units specified contain more precision than is allowed for the Order's instrument",
                    {**market, "units": str(requested)},
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
                    number = parse_dec(value.get("distance" if dep_type == "TRAILING_STOP_LOSS" else "price"))
                    if number is None or places(number) > inst.display_precision:
                        raise self._reject(
                            acct,
                            dep_type,
                            "PRICE_PRECISION_EXCEEDED",
                            "Price precision exceeded",
                            {"tradeID": trade["id"], **value},
                            key=f"{key}OrderRejectTransaction",
                        )
                    problem = inst.trailing_problem(number) if dep_type == "TRAILING_STOP_LOSS" else ""
                    if problem:
                        raise self._reject(
                            acct,
                            dep_type,
                            problem,
                            "The trailing stop distance is outside the instrument's limits",
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


def _key_for(reason: str) -> str:
    return {
        "STOP_LOSS_ORDER": "stopLoss",
        "TAKE_PROFIT_ORDER": "takeProfit",
        "TRAILING_STOP_LOSS_ORDER": "trailingStopLoss",
    }.get(reason, "order")
