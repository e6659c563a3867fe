"""Read side of the fake OANDA: JSON views of accounts, trades, positions and changes.

A part of ``FakeBroker``; callers hold ``self.lock`` (the HTTP routes do).
"""

from __future__ import annotations

from decimal import Decimal

from tests.support.fake_oanda.account import Account
from tests.support.fake_oanda.common import TRADE_LINK, USER_ID, J, money, units_str
from tests.support.fake_oanda.core import BrokerCore


class ViewsMixin(BrokerCore):
    # -- views ----------------------------------------------------------------------------------

    def order_view(self, order: J) -> J:
        return {k: v for k, v in order.items() if k != "initialMarketPrice"}

    def trade_view(self, acct: Account, trade: J, *, summary: bool = False) -> J:
        out = {k: v for k, v in trade.items() if k not in TRADE_LINK.values()}
        out["unrealizedPL"] = money(self.unrealized(acct, trade))
        out["marginUsed"] = money(self._margin(acct, trade["instrument"], Decimal(trade["currentUnits"])))
        for dep_type, link in TRADE_LINK.items():
            oid = trade.get(link)
            if not oid:
                continue
            if summary:
                out[link] = oid
            else:
                name = {
                    "TAKE_PROFIT": "takeProfitOrder",
                    "STOP_LOSS": "stopLossOrder",
                    "TRAILING_STOP_LOSS": "trailingStopLossOrder",
                }[dep_type]
                out[name] = self.order_view(acct.orders[oid])
        return out

    def summary(self, acct: Account) -> J:
        open_trades = self._open_trades(acct, None)
        upl = sum((self.unrealized(acct, t) for t in open_trades), Decimal("0"))
        margin = sum(
            (self._margin(acct, t["instrument"], Decimal(t["currentUnits"])) for t in open_trades), Decimal("0")
        )
        nav = acct.balance + upl
        positions = {t["instrument"] for t in open_trades}
        pending = [o for o in acct.orders.values() if o["state"] == "PENDING"]
        return {
            "id": acct.id,
            "alias": acct.alias,
            "currency": acct.currency,
            "balance": money(acct.balance),
            "createdByUserID": USER_ID,
            "createdTime": acct.created,
            "guaranteedStopLossOrderMode": "DISABLED",
            "pl": money(acct.pl),
            "resettablePL": money(acct.pl),
            "resettablePLTime": "0",
            "financing": "0.0000",
            "commission": "0.0000",
            "guaranteedExecutionFees": "0.0000",
            "marginRate": "0.02",
            "openTradeCount": len(open_trades),
            "openPositionCount": len(positions),
            "pendingOrderCount": len(pending),
            "hedgingEnabled": acct.hedging,
            "unrealizedPL": money(upl),
            "NAV": money(nav),
            "marginUsed": money(margin),
            "marginAvailable": money(self.margin_available(acct)),
            "positionValue": money(margin * 50),
            "marginCloseoutUnrealizedPL": money(upl),
            "marginCloseoutNAV": money(nav),
            "marginCloseoutMarginUsed": money(margin),
            "marginCloseoutPercent": "0.00000",
            "marginCloseoutPositionValue": money(margin * 50),
            "withdrawalLimit": money(max(Decimal("0"), self.margin_available(acct))),
            "marginCallMarginUsed": money(margin),
            "marginCallPercent": "0.00000",
            "lastTransactionID": acct.last,
        }

    def positions(self, acct: Account, *, open_only: bool = True) -> list[J]:
        out = []
        names = sorted({t["instrument"] for t in acct.trades.values() if not open_only or t["state"] == "OPEN"})
        for name in names:
            sides: dict[str, J] = {}
            total_upl = Decimal("0")
            for side, is_long in (("long", True), ("short", False)):
                trades = [t for t in self._open_trades(acct, name) if (Decimal(t["currentUnits"]) > 0) == is_long]
                units = sum((Decimal(t["currentUnits"]) for t in trades), Decimal("0"))
                upl = sum((self.unrealized(acct, t) for t in trades), Decimal("0"))
                total_upl += upl
                entry: J = {
                    "units": units_str(units),
                    "pl": "0.0000",
                    "unrealizedPL": money(upl),
                    "resettablePL": "0.0000",
                    "financing": "0.0000",
                }
                if trades:
                    avg = sum(
                        (Decimal(t["price"]) * abs(Decimal(t["currentUnits"])) for t in trades), Decimal("0")
                    ) / abs(units)
                    q = Decimal(1).scaleb(-self.instruments[name].display_precision - 1)
                    entry["averagePrice"] = f"{avg.quantize(q):f}"
                    entry["tradeIDs"] = [t["id"] for t in trades]
                sides[side] = entry
            out.append(
                {
                    "instrument": name,
                    "pl": "0.0000",
                    "unrealizedPL": money(total_upl),
                    "marginUsed": "0.0000",
                    "resettablePL": "0.0000",
                    "financing": "0.0000",
                    "commission": "0.0000",
                    **sides,
                }
            )
        return out

    def changes(self, acct: Account, since: int) -> J:
        txns = [t for t in acct.transactions if int(t["id"]) > since]
        created = [acct.orders[t["id"]] for t in txns if t["id"] in acct.orders and t["type"].endswith("_ORDER")]
        cancelled = [
            acct.orders[t["orderID"]] for t in txns if t["type"] == "ORDER_CANCEL" and t.get("orderID") in acct.orders
        ]
        filled = [acct.orders[t["orderID"]] for t in txns if t["type"] == "ORDER_FILL" and t["orderID"] in acct.orders]
        opened, closed_ids, reduced_ids = [], [], []
        for t in txns:
            if t["type"] != "ORDER_FILL":
                continue
            if t.get("tradeOpened"):
                opened.append(t["tradeOpened"]["tradeID"])
            closed_ids += [c["tradeID"] for c in t.get("tradesClosed", [])]
            if t.get("tradeReduced"):
                reduced_ids.append(t["tradeReduced"]["tradeID"])

        def views(ids: list[str]) -> list[J]:
            return [self.trade_view(acct, acct.trades[i], summary=True) for i in dict.fromkeys(ids)]

        summary = self.summary(acct)
        return {
            "changes": {
                "ordersCreated": [self.order_view(o) for o in created],
                "ordersCancelled": [self.order_view(o) for o in cancelled],
                "ordersFilled": [self.order_view(o) for o in filled],
                "ordersTriggered": [],
                "tradesOpened": views(opened),
                "tradesReduced": views(reduced_ids),
                "tradesClosed": views(closed_ids),
                "positions": self.positions(acct, open_only=False),
                "transactions": txns,
            },
            "state": {
                k: summary[k]
                for k in (
                    "unrealizedPL",
                    "NAV",
                    "marginUsed",
                    "marginAvailable",
                    "positionValue",
                    "withdrawalLimit",
                    "marginCloseoutPercent",
                )
            }
            | {
                "orders": [],
                "trades": [
                    {"id": t["id"], "unrealizedPL": money(self.unrealized(acct, t))}
                    for t in self._open_trades(acct, None)
                ],
                "positions": [],
            },
            "lastTransactionID": acct.last,
        }
