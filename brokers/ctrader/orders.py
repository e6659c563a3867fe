"""Orders on a cTrader account: place, look up, close, protect, cancel.

An order request is answered by execution events: ORDER_ACCEPTED, then ORDER_FILLED (with its deal) for a market
order; ORDER_ACCEPTED alone for a resting limit or stop order; ORDER_REJECTED, a ``ProtoOAOrderErrorEvent`` or a
``ProtoOAErrorRes`` when refused. The events of one order are collected in one inbox from two sources: answers
carrying the request's clientMsgId and events of the account that name the order (its clientOrderId, its id,
or the position it closes), whichever way the server sends them.

Every order carries the magic number: ``label`` "asirikuy:<instance>", a ``comment`` naming instance and client
order id (a position keeps both), and our client order id as ``clientOrderId``. When the answer is lost the order
is looked up by that id (resting orders, then the orders since the time marker taken before sending, with the
deals of a filled one) and never sent again from here.

Market orders carry no absolute stop loss or take profit (the server takes those on pending orders only); they
are set on the position right after the fill (``ProtoOAAmendPositionSLTPReq``, an idempotent request).
"""

from __future__ import annotations

import logging
import queue
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from brokers.base import OrderRequest, OrderResult
from brokers.ctrader import messages as pb
from brokers.ctrader import parse
from brokers.ctrader.convert import (
    SymbolSpec,
    comment_of,
    double_of,
    label_of,
    ms_of,
    price_of_double,
    volume_of,
    wire_client_order_id,
)
from brokers.ctrader.pending import ConnectionLost, raise_if_error
from brokers.errors import BrokerError, BrokerNotFoundError, BrokerTemporaryError, BrokerUnknownOutcomeError

if TYPE_CHECKING:
    from brokers.ctrader.client import CTraderClient

logger = logging.getLogger("brokers.ctrader.orders")

_ORDER_TYPE = {"market": 1, "limit": 2, "stop": 3}  # ProtoOAOrderType
_SIDE = {"buy": 1, "sell": 2}  # ProtoOATradeSide
GTD, MARKET = 1, 1  # ProtoOATimeInForce GOOD_TILL_DATE, ProtoOAOrderType MARKET
ACCEPTED, FILLED, REPLACED, CANCELLED, EXPIRED, REJECTED, CANCEL_REJECTED, PARTIAL = 2, 3, 4, 5, 6, 7, 8, 11
LOOKBACK_MS = 5 * 60_000  # a lost order is searched from this long before its time marker (clock skew)


class _NoAnswer(Exception):  # noqa: N818 - internal signal
    pass


class _Watch:
    """One inbox for the answers to an order request and for the account's events about that order."""

    def __init__(self, client: CTraderClient, *, wire_id: str = "", order_id: int = 0, position_id: int = 0) -> None:
        self.inbox: queue.Queue[Any] = queue.Queue()
        self.account_id = client.account_id
        self.wire_id = wire_id
        self.order_id = order_id
        self.position_id = position_id
        self._remove = client.connection.add_listener(self._listen)

    def _listen(self, message: pb.Message) -> None:
        name = message.DESCRIPTOR.name
        if name not in ("ProtoOAExecutionEvent", "ProtoOAOrderErrorEvent"):
            return
        if int(message.ctidTraderAccountId) != self.account_id:
            return
        if name == "ProtoOAOrderErrorEvent":
            hit = (self.order_id and int(message.orderId) == self.order_id) or (
                self.position_id and int(message.positionId) == self.position_id
            )
        elif message.HasField("order"):
            order = message.order
            hit = (
                (self.wire_id and str(order.clientOrderId) == self.wire_id)
                or (self.order_id and int(order.orderId) == self.order_id)
                or (self.position_id and order.closingOrder and int(order.positionId) == self.position_id)
            )
        else:
            hit = False
        if hit:
            self.inbox.put(message)

    def close(self) -> None:
        self._remove()

    def outcome(self, timeout: float, *, where: str) -> tuple[int, Any, list[Any]]:
        """(execution type, order, deals) of the first final event: FILLED, a resting order's ACCEPTED, a
        rejection, a cancel or expiry, a replacement. Raises the mapped error for an error answer, _NoAnswer
        when nothing final came in time, ConnectionLost when the connection dropped."""
        deadline = time.monotonic() + timeout
        deals: dict[int, Any] = {}
        while True:
            try:
                item = self.inbox.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise _NoAnswer(f"{where}: no final answer within {timeout:.0f} s") from None
            if isinstance(item, ConnectionLost):
                raise item
            raise_if_error(item, where=where, order=True)
            if item.DESCRIPTOR.name != "ProtoOAExecutionEvent":
                continue
            kind = int(item.executionType)
            order = item.order if item.HasField("order") else None
            if order is not None:
                self.order_id = self.order_id or int(order.orderId)
            if item.HasField("deal"):
                deals[int(item.deal.dealId)] = item.deal
            if kind == ACCEPTED and order is not None and int(order.orderType) == MARKET:
                continue
            if kind == PARTIAL:
                continue
            if kind in (ACCEPTED, FILLED, REJECTED, CANCELLED, EXPIRED, REPLACED, CANCEL_REJECTED):
                return kind, order, list(deals.values())


def submit(client: CTraderClient, request: OrderRequest) -> OrderResult:
    """Send one order once; on a lost answer look it up, and raise BrokerUnknownOutcomeError if it is not found."""
    spec = client.spec_of(request.instrument)
    wire = wire_client_order_id(request.client_order_id)
    message = _new_order(client, request, spec, wire)
    marker = client.last_transaction_id
    watch = _Watch(client, wire_id=wire)
    try:
        try:
            client.send(message, watch.inbox)
        except ConnectionLost as e:
            raise BrokerTemporaryError(f"cTrader order {request.client_order_id} not sent: {e}") from None
        try:
            kind, order, deals = watch.outcome(client.order_timeout, where=f"order {request.client_order_id}")
        except (ConnectionLost, _NoAnswer, BrokerUnknownOutcomeError) as e:
            logger.warning("order %s: outcome unknown (%s); looking it up", request.client_order_id, e)
            return _lookup_or_unknown(client, request.client_order_id, marker, str(e))
    finally:
        watch.close()
    result = _result(client, request.client_order_id, kind, order, deals)
    if result.status == "filled" and request.order_type == "market" and result.fill and result.fill.trade_opened:
        if request.stop_loss is not None or request.take_profit is not None:
            _protect(client, int(result.fill.trade_opened), spec, request.stop_loss, request.take_profit)
    return result


def _new_order(client: CTraderClient, request: OrderRequest, spec: SymbolSpec, wire: str) -> pb.Message:
    message = pb.oa.ProtoOANewOrderReq(
        ctidTraderAccountId=client.account_id,
        symbolId=spec.symbol_id,
        orderType=_ORDER_TYPE[request.order_type],
        tradeSide=_SIDE[request.side],
        volume=volume_of(request.units, spec),
        label=label_of(request.instance_id),
        comment=comment_of(request.instance_id, request.client_order_id),
        clientOrderId=wire,
    )
    if request.order_type != "market":
        if request.price is None:
            raise BrokerError(f"{request.order_type} order {request.client_order_id} needs a price")
        price = double_of(request.price, spec.digits)
        if request.order_type == "limit":
            message.limitPrice = price
        else:
            message.stopPrice = price
        if request.expires_at is not None:
            message.timeInForce = GTD
            message.expirationTimestamp = ms_of(request.expires_at)
        if request.stop_loss is not None:
            message.stopLoss = double_of(request.stop_loss, spec.digits)
        if request.take_profit is not None:
            message.takeProfit = double_of(request.take_profit, spec.digits)
    return message


def _result(client: CTraderClient, client_order_id: str, kind: int, order: Any, deals: list[Any]) -> OrderResult:
    order_id = str(order.orderId) if order is not None else ""
    if deals and kind in (FILLED, CANCELLED, EXPIRED):  # a partly filled order that was then cancelled is filled
        specs = client.specs_for(int(d.symbolId) for d in deals)
        return OrderResult(
            status="filled", client_order_id=client_order_id, broker_order_id=order_id, fill=parse.fill(deals, specs)
        )
    if kind == ACCEPTED:
        return OrderResult(status="pending", client_order_id=client_order_id, broker_order_id=order_id)
    if kind == REJECTED:
        return OrderResult(status="rejected", client_order_id=client_order_id, reason="ORDER_REJECTED")
    return OrderResult(status="cancelled", client_order_id=client_order_id, broker_order_id=order_id, reason="")


def _lookup_or_unknown(client: CTraderClient, client_order_id: str, marker: str | None, why: str) -> OrderResult:
    try:
        found = find(client, client_order_id, since=marker)
    except BrokerError as e:
        raise BrokerUnknownOutcomeError(f"order {client_order_id}: outcome unknown and lookup failed: {e}") from e
    if found is None:
        raise BrokerUnknownOutcomeError(
            f"order {client_order_id}: outcome unknown ({why}) and no trace at the broker; never resent from here"
        )
    return found


def find(client: CTraderClient, client_order_id: str, *, since: str | None = None) -> OrderResult | None:
    """Where is our order? Among the resting orders, else among the orders since ``since`` (a time marker)."""
    wire = wire_client_order_id(client_order_id)
    for order in client.reconcile().order:
        if str(order.clientOrderId) == wire and int(order.orderType) != MARKET:
            return OrderResult(status="pending", client_order_id=client_order_id, broker_order_id=str(order.orderId))
    start = int((since or "0").split(":")[0] or 0) - LOOKBACK_MS
    now = client.server_time_ms()
    listed = client.call(
        pb.oa.ProtoOAOrderListReq(
            ctidTraderAccountId=client.account_id, fromTimestamp=max(0, start), toTimestamp=now + LOOKBACK_MS
        )
    )
    for order in listed.order:
        if str(order.clientOrderId) != wire:
            continue
        details = client.call(
            pb.oa.ProtoOAOrderDetailsReq(ctidTraderAccountId=client.account_id, orderId=order.orderId)
        )
        deals = [d for d in details.deal if int(d.dealStatus) in parse.FILLED_DEALS]
        status = int(details.order.orderStatus)  # ProtoOAOrderStatus: 1 accepted, 2 filled, 3 rejected, 4/5 ended
        kind = {1: ACCEPTED, 2: FILLED, 3: REJECTED, 4: EXPIRED, 5: CANCELLED}.get(status, ACCEPTED)
        return _result(client, client_order_id, kind, details.order, deals)
    return None


def close(client: CTraderClient, position_id: str, *, units: Decimal | None = None) -> OrderResult:
    """Close a position, or ``units`` of it. Raises BrokerNotFoundError when it is not open."""
    position = _position(client, position_id)
    volume = int(position.tradeData.volume) if units is None else volume_of(units)
    watch = _Watch(client, position_id=int(position.positionId))
    try:
        try:
            client.send(
                pb.oa.ProtoOAClosePositionReq(
                    ctidTraderAccountId=client.account_id, positionId=int(position.positionId), volume=volume
                ),
                watch.inbox,
            )
        except ConnectionLost as e:
            raise BrokerTemporaryError(f"cTrader close of position {position_id} not sent: {e}") from None
        try:
            kind, order, deals = watch.outcome(client.order_timeout, where=f"close of position {position_id}")
        except (ConnectionLost, _NoAnswer) as e:
            raise BrokerUnknownOutcomeError(f"close of position {position_id}: {e}; look it up") from None
    finally:
        watch.close()
    return _result(client, "", kind, order, deals)


def modify(client: CTraderClient, position_id: str, *, stop_loss: Decimal | None, take_profit: Decimal | None) -> None:
    """Set a position's stop loss / take profit (None keeps the current level: the request sets both)."""
    if stop_loss is None and take_profit is None:
        return
    position = _position(client, position_id)
    spec = client.spec_by_id(int(position.tradeData.symbolId))
    keep_sl = price_of_double(position.stopLoss, spec.digits) if position.HasField("stopLoss") else None
    keep_tp = price_of_double(position.takeProfit, spec.digits) if position.HasField("takeProfit") else None
    _protect(client, int(position.positionId), spec, stop_loss or keep_sl, take_profit or keep_tp, strict=True)


def _protect(
    client: CTraderClient,
    position_id: int,
    spec: SymbolSpec,
    stop_loss: Decimal | None,
    take_profit: Decimal | None,
    *,
    strict: bool = False,
) -> None:
    message = pb.oa.ProtoOAAmendPositionSLTPReq(ctidTraderAccountId=client.account_id, positionId=position_id)
    if stop_loss is not None:
        message.stopLoss = double_of(stop_loss, spec.digits)
    if take_profit is not None:
        message.takeProfit = double_of(take_profit, spec.digits)
    try:
        client.call(message)  # absolute levels: repeating it is harmless
    except BrokerError as e:
        if strict:
            raise
        # The fill stands; the sync copies the broker's real levels onto the trade.
        logger.warning("position %s filled but its stop loss / take profit were refused: %s", position_id, e)


def cancel(client: CTraderClient, order_id: str) -> None:
    """Cancel a resting order. Raises BrokerNotFoundError when it is not resting any more."""
    client.call(pb.oa.ProtoOACancelOrderReq(ctidTraderAccountId=client.account_id, orderId=int(order_id)))


def _position(client: CTraderClient, position_id: str) -> Any:
    for position in client.reconcile().position:
        if str(position.positionId) == str(position_id):
            return position
    raise BrokerNotFoundError(f"cTrader position {position_id} is not open", reason="POSITION_NOT_FOUND")
