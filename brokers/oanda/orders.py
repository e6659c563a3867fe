"""OANDA order bodies, number formatting and order outcomes: pure functions over requests and JSON.

Decision on 201-with-cancel: an order OANDA created and then cancelled (MARKET_HALTED, INSUFFICIENT_MARGIN,
FIFO_VIOLATION_SAFEGUARD_VIOLATION, ...) is RETURNED as ``OrderResult(status="cancelled", reason=...)``: it
existed and consumed transaction ids, and the caller records the reason. A 400 (the order never existed)
is raised as ``BrokerRejectedError`` by the HTTP layer.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal

from brokers.base import OrderRequest, OrderResult
from brokers.errors import BrokerProtocolError, BrokerRejectedError
from brokers.oanda import parse
from brokers.oanda.http import JsonDict
from brokers.oanda.timefmt import format_rfc3339

CREATE_TYPES = frozenset({"MARKET_ORDER", "LIMIT_ORDER", "STOP_ORDER", "MARKET_IF_TOUCHED_ORDER"})
REJECT_TYPES = frozenset(f"{t}_REJECT" for t in CREATE_TYPES)
V20_TYPES = {"market": "MARKET", "limit": "LIMIT", "stop": "STOP", "market_if_touched": "MARKET_IF_TOUCHED"}


def order_body(request: OrderRequest) -> JsonDict:
    """The v20 ``{"order": ...}`` body for a request: signed units at the unit precision, prices at the
    instrument's digits, our client id on the order and on the trade it opens, the magic number as tag."""
    inst = request.instrument
    if request.units <= 0:
        raise BrokerRejectedError("units must be positive; side gives the sign", reason="UNITS_INVALID")
    units = fmt(request.units if request.side == "buy" else -request.units, inst.unit_precision, exact=True)
    tag = f"asirikuy:{request.instance_id}"
    ext = {"id": request.client_order_id, "tag": tag, "comment": f"asirikuy instance {request.instance_id}"}
    order: JsonDict = {
        "type": V20_TYPES[request.order_type],
        "instrument": inst.broker_symbol,
        "units": units,
        "positionFill": "DEFAULT",
        "clientExtensions": ext,
        "tradeClientExtensions": {"id": request.client_order_id, "tag": tag},
    }
    if request.order_type == "market":
        order["timeInForce"] = "FOK"
    else:
        if request.price is None:
            raise BrokerRejectedError(f"{request.order_type} order needs a price", reason="PRICE_MISSING")
        order["price"] = fmt(request.price, inst.digits)
        if request.expires_at is not None:
            order["timeInForce"] = "GTD"
            order["gtdTime"] = format_rfc3339(request.expires_at)
        else:
            order["timeInForce"] = "GTC"
    if request.price_bound is not None and request.order_type != "limit":
        order["priceBound"] = fmt(request.price_bound, inst.digits)
    if request.stop_loss is not None:
        order["stopLossOnFill"] = {"price": fmt(request.stop_loss, inst.digits), "timeInForce": "GTC"}
    if request.take_profit is not None:
        order["takeProfitOnFill"] = {"price": fmt(request.take_profit, inst.digits), "timeInForce": "GTC"}
    if request.trailing_distance is not None:
        order["trailingStopLossOnFill"] = {
            "distance": fmt(request.trailing_distance, inst.digits),
            "timeInForce": "GTC",
        }
    return {"order": order}


def outcome_in_transactions(transactions: Iterable[JsonDict], client_order_id: str) -> OrderResult | None:
    """What happened to our order, read from the transaction log: rejected, filled, cancelled, pending
    (created with no outcome yet), or None when the log has no trace of it."""
    created: JsonDict | None = None
    for txn in transactions:
        ttype = txn.get("type")
        if created is None:
            if parse.client_order_id_of(txn) != client_order_id:
                continue
            if ttype in REJECT_TYPES:
                return OrderResult(
                    status="rejected",
                    client_order_id=client_order_id,
                    reason=str(txn.get("rejectReason") or ""),
                    last_transaction_id=str(txn["id"]),
                )
            if ttype in CREATE_TYPES:
                created = txn
            continue
        if str(txn.get("orderID")) != str(created["id"]):
            continue
        if ttype == "ORDER_FILL":
            return OrderResult(
                status="filled",
                client_order_id=client_order_id,
                broker_order_id=str(created["id"]),
                fill=parse.fill(txn),
                last_transaction_id=str(txn["id"]),
            )
        if ttype == "ORDER_CANCEL":
            return OrderResult(
                status="cancelled",
                client_order_id=client_order_id,
                broker_order_id=str(created["id"]),
                reason=str(txn.get("reason") or ""),
                last_transaction_id=str(txn["id"]),
            )
    if created is not None:
        return OrderResult(
            status="pending",
            client_order_id=client_order_id,
            broker_order_id=str(created["id"]),
            last_transaction_id=str(created["id"]),
        )
    return None


def fmt(value: Decimal, places: int, *, exact: bool = False) -> str:
    q = Decimal(1).scaleb(-places)
    rounded = value.quantize(q, rounding=ROUND_HALF_EVEN)
    if exact and rounded != value:
        raise BrokerRejectedError(
            f"units {value} exceed the instrument's precision of {places} places", reason="UNITS_PRECISION_EXCEEDED"
        )
    return f"{rounded:f}"


def fmt_price(value: Decimal, digits: int | None) -> str:
    return f"{value:f}" if digits is None else fmt(value, digits)


def order_result(body: JsonDict, client_order_id: str) -> OrderResult:
    create = body.get("orderCreateTransaction") or {}
    oid = str(create.get("id") or "")
    last = str(body.get("lastTransactionID") or "")
    client_order_id = client_order_id or parse.client_order_id_of(create)
    if body.get("orderFillTransaction"):
        fill = parse.fill(body["orderFillTransaction"])
        return OrderResult(
            status="filled",
            client_order_id=client_order_id,
            broker_order_id=oid or fill.broker_order_id,
            fill=fill,
            last_transaction_id=last,
        )
    cancel = body.get("orderCancelTransaction")
    if cancel:
        return OrderResult(
            status="cancelled",
            client_order_id=client_order_id,
            broker_order_id=oid or str(cancel.get("orderID") or ""),
            reason=str(cancel.get("reason") or ""),
            last_transaction_id=last,
        )
    if not create:
        raise BrokerProtocolError("OANDA order answer has neither a create, a fill nor a cancel transaction")
    return OrderResult(status="pending", client_order_id=client_order_id, broker_order_id=oid, last_transaction_id=last)
