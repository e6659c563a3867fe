"""REST routes of the fake OANDA: one ``_r_<name>`` method per route of ``server._ROUTES``."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING

from tests.support.fake_oanda.account import Account
from tests.support.fake_oanda.common import J, Reply

if TYPE_CHECKING:
    from tests.support.fake_oanda.server import FakeServer


class RestRoutes(BaseHTTPRequestHandler):
    server: FakeServer

    def _r_accounts(self, acct: Account | None, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        auth = self.headers.get("Authorization", "")[7:]
        broker = self.server.broker
        rows: list[J] = []
        for i in sorted(broker.tokens[auth]):
            row: J = {"id": i, "tags": []}
            mt4 = broker.accounts[i].mt4_account_id
            if mt4 is not None:  # AccountProperties.mt4AccountID: present only for MT4-linked accounts
                row["mt4AccountID"] = mt4
            rows.append(row)
        return 200, {"accounts": rows}

    def _r_account(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        b = self.server.broker
        with b.lock:
            out = b.summary(acct)
            out["trades"] = [b.trade_view(acct, t, summary=True) for t in b._open_trades(acct, None)]
            out["orders"] = [b.order_view(o) for o in acct.orders.values() if o["state"] == "PENDING"]
            out["positions"] = b.positions(acct, open_only=False)
            return 200, {"account": out, "lastTransactionID": acct.last}

    def _r_summary(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        with self.server.broker.lock:
            return 200, {"account": self.server.broker.summary(acct), "lastTransactionID": acct.last}

    def _r_instruments(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        b = self.server.broker
        wanted = params.get("instruments")
        names = wanted.split(",") if wanted else list(b.instruments)
        for n in names:
            b.instrument(n)
        return 200, {"instruments": [b.instruments[n].as_json() for n in names], "lastTransactionID": acct.last}

    def _r_changes(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        since = params.get("sinceTransactionID", "")
        if not since.isdigit() or int(since) > acct.last_id:
            raise Reply(416, {"errorMessage": "Invalid value specified for 'sinceTransactionID'"})
        with self.server.broker.lock:
            return 200, self.server.broker.changes(acct, int(since))

    def _r_pricing(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        b = self.server.broker
        names = [n for n in params.get("instruments", "").split(",") if n]
        if not names:
            raise Reply(400, {"errorMessage": "Invalid value specified for 'instruments'"})
        with b.lock:
            for n in names:
                b.instrument(n)
            return 200, {"time": b.now_str(), "prices": [b.price_json(n) for n in names]}

    def _r_candles(self, acct: Account | None, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        return 200, self.server.broker.query_candles(args["inst"], params)

    def _r_order_create(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        return self.server.broker.create_order(acct, body)

    def _r_orders(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        b = self.server.broker
        state = params.get("state", "PENDING")
        inst = params.get("instrument")
        ids = set(params["ids"].split(",")) if params.get("ids") else None
        count = min(int(params.get("count", "50")), 500)
        before = int(params["beforeID"]) if params.get("beforeID") else None
        with b.lock:
            rows = [
                o
                for o in sorted(acct.orders.values(), key=lambda o: -int(o["id"]))
                if (state == "ALL" or o["state"] == state)
                and (inst is None or o.get("instrument") == inst)
                and (ids is None or o["id"] in ids)
                and (before is None or int(o["id"]) < before)
            ]
            return 200, {"orders": [b.order_view(o) for o in rows[:count]], "lastTransactionID": acct.last}

    def _r_pending_orders(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        b = self.server.broker
        with b.lock:
            rows = [b.order_view(o) for o in acct.orders.values() if o["state"] == "PENDING"]
            return 200, {"orders": rows, "lastTransactionID": acct.last}

    def _r_order(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        b = self.server.broker
        with b.lock:
            order = b.find_order(acct, args["spec"])
            if order is None:
                raise Reply(
                    404,
                    {
                        "errorCode": "NO_SUCH_ORDER",
                        "errorMessage": "The order specified does not exist",
                        "lastTransactionID": acct.last,
                    },
                )
            return 200, {"order": b.order_view(order), "lastTransactionID": acct.last}

    def _r_order_cancel(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        return self.server.broker.cancel_order(acct, args["spec"])

    def _r_trades(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        b = self.server.broker
        state = params.get("state", "OPEN")
        count = min(int(params.get("count", "50")), 500)
        before = int(params["beforeID"]) if params.get("beforeID") else None
        with b.lock:
            rows = [
                t
                for t in sorted(acct.trades.values(), key=lambda t: -int(t["id"]))
                if (state == "ALL" or t["state"] == state) and (before is None or int(t["id"]) < before)
            ]
            return 200, {"trades": [b.trade_view(acct, t) for t in rows[:count]], "lastTransactionID": acct.last}

    def _r_open_trades(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        b = self.server.broker
        with b.lock:
            rows = sorted(b._open_trades(acct, None), key=lambda t: -int(t["id"]))
            return 200, {"trades": [b.trade_view(acct, t) for t in rows], "lastTransactionID": acct.last}

    def _r_trade(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        b = self.server.broker
        with b.lock:
            return 200, {"trade": b.trade_view(acct, b.find_trade(acct, args["spec"])), "lastTransactionID": acct.last}

    def _r_trade_close(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        return self.server.broker.close_trade(acct, args["spec"], body)

    def _r_trade_orders(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        return self.server.broker.set_trade_orders(acct, args["spec"], body)

    def _r_open_positions(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        with self.server.broker.lock:
            return 200, {"positions": self.server.broker.positions(acct), "lastTransactionID": acct.last}

    def _r_positions(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        with self.server.broker.lock:
            return 200, {
                "positions": self.server.broker.positions(acct, open_only=False),
                "lastTransactionID": acct.last,
            }

    def _r_txn_since(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        since = params.get("id", "")
        if not since.isdigit():
            raise Reply(400, {"errorMessage": "Invalid value specified for 'id'"})
        if int(since) > acct.last_id:
            raise Reply(416, {"errorMessage": "Invalid value specified for 'id'"})
        with self.server.broker.lock:
            rows = [t for t in acct.transactions if int(t["id"]) > int(since)]
            return 200, {"transactions": rows, "lastTransactionID": acct.last}

    def _r_txn_range(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        try:
            lo, hi = int(params["from"]), int(params["to"])
        except (KeyError, ValueError):
            raise Reply(400, {"errorMessage": "Invalid value specified for 'from' or 'to'"}) from None
        if lo > hi or lo < 1:
            raise Reply(416, {"errorMessage": "Invalid transaction ID range"})
        with self.server.broker.lock:
            rows = [t for t in acct.transactions if lo <= int(t["id"]) <= hi]
            return 200, {"transactions": rows, "lastTransactionID": acct.last}

    def _r_txn(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        with self.server.broker.lock:
            for t in acct.transactions:
                if t["id"] == args["tid"]:
                    return 200, {"transaction": t, "lastTransactionID": acct.last}
        raise Reply(404, {"errorCode": "NO_SUCH_TRANSACTION", "errorMessage": "The transaction does not exist"})

    def _r_txn_pages(self, acct: Account, args: J, params: dict[str, str], body: J) -> tuple[int, J]:
        size = min(int(params.get("pageSize", "100")), 1000)
        host = f"http://{self.headers.get('Host', '127.0.0.1')}"
        with self.server.broker.lock:
            last = acct.last_id
            pages = [
                f"{host}/v3/accounts/{acct.id}/transactions/idrange?from={lo}&to={min(lo + size - 1, last)}"
                for lo in range(1, last + 1, size)
            ]
            return 200, {
                "from": acct.created,
                "to": self.server.broker.now_str(),
                "pageSize": size,
                "count": last,
                "pages": pages,
                "lastTransactionID": acct.last,
            }
