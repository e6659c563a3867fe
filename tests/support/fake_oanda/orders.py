"""Order creation with OANDA's validation (rejects consume a transaction id), lookup and cancel."""

from __future__ import annotations

from decimal import Decimal

from brokers.oanda.timefmt import parse_time
from tests.support.fake_oanda.account import Account
from tests.support.fake_oanda.common import ENTRY_TYPES, ON_FILL_KEYS, J, Reply, parse_dec, places
from tests.support.fake_oanda.fills import FillsMixin


class OrdersMixin(FillsMixin):
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
            units = parse_dec(req.get("units"))
            if units is None or units == 0:
                raise self._reject(acct, otype, "UNITS_INVALID", "Order units specified are invalid", fields)
            if units != units.quantize(Decimal(1).scaleb(-inst.units_precision)):
                raise self._reject(acct, otype, "UNITS_PRECISION_EXCEEDED", "Order units precision exceeded", fields)
            tif = fields["timeInForce"]
            if otype == "MARKET" and tif not in ("FOK", "IOC"):
                raise self._reject(acct, otype, "TIME_IN_FORCE_INVALID", "Time in force is invalid", fields)
            if otype != "MARKET":
                price = parse_dec(req.get("price"))
                if price is None or price <= 0:
                    raise self._reject(acct, otype, "PRICE_INVALID", "Order price is invalid", fields)
                if places(price) > inst.display_precision:
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
                value = parse_dec(spec.get("price") if dep != "TRAILING_STOP_LOSS" else spec.get("distance"))
                if value is None:
                    raise self._reject(acct, otype, f"{dep}_ON_FILL_PRICE_MISSING", f"{key} invalid", fields)
                if places(value) > inst.display_precision:
                    raise self._reject(
                        acct,
                        otype,
                        f"{dep}_ON_FILL_PRICE_PRECISION_EXCEEDED",
                        f"{key} price precision exceeded",
                        fields,
                    )
                if dep == "TRAILING_STOP_LOSS":
                    problem = inst.trailing_problem(value)
                    if problem:
                        raise self._reject(
                            acct, otype, f"TRAILING_STOP_LOSS_ON_FILL_{problem}", f"{key} distance out of range", fields
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
