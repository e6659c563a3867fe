"""Read-side of the fake OANDA: JSON views of accounts, trades, positions, changes, and candle queries.

A mixin of ``FakeBroker``; callers hold ``self.lock`` (the HTTP routes do).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from brokers.oanda.fake.common import TRADE_LINK, USER_ID, J, Reply, money, units_str
from brokers.oanda.timefmt import parse_time

if TYPE_CHECKING:
    from brokers.oanda.fake.broker import Account


class ViewsMixin:
    lock: Any
    prices: dict[str, tuple[Decimal, Decimal]]
    instruments: dict[str, Any]
    candles: dict[tuple[str, str], list[J]]
    candle_times: dict[tuple[str, str], list[datetime]]

    # -- views ----------------------------------------------------------------------------------

    def order_view(self, order: J) -> J:
        return {k: v for k, v in order.items() if k != "initialMarketPrice"}

    def unrealized(self, acct: Account, trade: J) -> Decimal:
        if trade["state"] != "OPEN":
            return Decimal("0")
        bid, ask = self.prices[trade["instrument"]]
        units = Decimal(trade["currentUnits"])
        close = bid if units > 0 else ask
        return self.to_account_ccy(acct, trade["instrument"], (close - Decimal(trade["price"])) * units)

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
            "marginAvailable": money(nav - margin),
            "positionValue": money(margin * 50),
            "marginCloseoutUnrealizedPL": money(upl),
            "marginCloseoutNAV": money(nav),
            "marginCloseoutMarginUsed": money(margin),
            "marginCloseoutPercent": "0.00000",
            "marginCloseoutPositionValue": money(margin * 50),
            "withdrawalLimit": money(nav - margin),
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

    # -- candles --------------------------------------------------------------------------------

    def query_candles(self, instrument: str, params: dict[str, str]) -> J:
        """GET .../candles with OANDA's rules: count <= 5000, from/to/includeFirst, price M/B/A."""
        with self.lock:
            self.instrument(instrument)
            granularity = params.get("granularity", "S5")
            price = params.get("price", "M")
            if not price or set(price) - set("MBA"):
                raise Reply(400, {"errorMessage": "Invalid value specified for 'price'"})
            has_count = "count" in params
            try:
                count = int(params.get("count", "500"))
            except ValueError:
                raise Reply(400, {"errorMessage": "Invalid value specified for 'count'"}) from None
            if count > 5000 or count < 1:
                raise Reply(400, {"errorMessage": "Maximum value for 'count' exceeded"})
            start = _time_param(params, "from")
            end = _time_param(params, "to")
            if has_count and start is not None and end is not None:
                raise Reply(400, {"errorMessage": "Cannot specify 'count' with both 'from' and 'to'"})
            if end is not None and end > self.now():
                raise Reply(400, {"errorMessage": "Invalid value specified for 'to'. Time is in the future"})
            include_first = params.get("includeFirst", "true") != "false"
            rows = self.candles.get((instrument, granularity), [])
            times = self.candle_times.get((instrument, granularity), [])
            if start is not None:
                lo = bisect_left(times, start) if include_first else bisect_right(times, start)
                hi = bisect_left(times, end) if end is not None else len(rows)
                chosen = rows[lo:hi] if end is not None else rows[lo : lo + count]
            else:
                hi = bisect_left(times, end) if end is not None else len(rows)
                chosen = rows[max(0, hi - count) : hi]
            if end is not None and start is not None and len(chosen) > 5000:
                raise Reply(400, {"errorMessage": "Maximum value for 'count' exceeded"})
            keys = {"M": "mid", "B": "bid", "A": "ask"}
            wanted = {keys[p] for p in price}
            out = [{k: v for k, v in r.items() if k not in ("mid", "bid", "ask") or k in wanted} for r in chosen]
            return {"instrument": instrument, "granularity": granularity, "candles": out}

    def set_candles(self, instrument: str, granularity: str, candles: Iterable[J]) -> None:
        """Store candles (OANDA shape, with mid/bid/ask blocks); kept sorted by time."""
        with self.lock:
            rows = sorted(candles, key=lambda c: parse_time(c["time"]))
            self.candles[(instrument, granularity)] = rows
            self.candle_times[(instrument, granularity)] = [parse_time(r["time"]) for r in rows]


def _time_param(params: dict[str, str], key: str) -> datetime | None:
    value = params.get(key)
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError:
        raise Reply(400, {"errorMessage": f"Invalid value specified for '{key}'"}) from None
