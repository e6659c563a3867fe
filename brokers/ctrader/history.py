"""History of a cTrader account: its deals as events, one trade open or closed, and trend bars.

cTrader has no transaction ids: the history cursor is ``"<executionTimestamp ms>:<dealId>"`` of the newest deal
applied. ``events_since`` returns every filled deal after it, oldest first, each with the order it belongs to
(our client order id from the order's clientOrderId or comment) and, for a closing deal, why the position
closed: its stop loss, take profit, a stop-out, a close request (ours or by hand), or an opposite order
(netting). Deal lists are historical requests (paced at 5/s) and are read in windows of at most a week.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from brokers.base import BrokerEvent, BrokerTrade
from brokers.ctrader import messages as pb
from brokers.ctrader import parse
from brokers.ctrader.convert import (
    MAX_CLIENT_ORDER_ID,
    client_order_id_of_comment,
    money_of,
    ms_of,
    price_of_double,
    price_of_int,
    time_of_ms,
    units_of,
)
from brokers.errors import BrokerNotFoundError

if TYPE_CHECKING:
    from brokers.ctrader.client import CTraderClient

WEEK_MS = 7 * 86_400_000
MAX_ROWS = 1000
PROTECTION = 4  # ProtoOAOrderType STOP_LOSS_TAKE_PROFIT
PERIODS = {1: 1, 5: 5, 15: 7, 30: 8, 60: 9, 240: 10, 1440: 12, 10080: 13, 43200: 14}  # minutes -> ProtoOATrendbarPeriod


@dataclass(frozen=True)
class Trendbar:
    """One bar (bid prices), ``time`` its open in UTC."""

    time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int  # ticks


def cursor_of(deal: Any) -> tuple[int, int]:
    return int(deal.executionTimestamp), int(deal.dealId)


def parse_cursor(cursor: str) -> tuple[int, int]:
    ts, _, deal = (cursor or "0").partition(":")
    return int(ts or 0), int(deal or 0)


def deals_between(client: CTraderClient, start_ms: int, end_ms: int) -> Iterator[Any]:
    """Every deal executed in [start_ms, end_ms], oldest first, read a week at a time."""
    seen: set[int] = set()
    window_start = start_ms
    while window_start <= end_ms:
        window_end = min(end_ms, window_start + WEEK_MS)
        page_start = window_start
        while True:
            answer = client.call(
                pb.oa.ProtoOADealListReq(
                    ctidTraderAccountId=client.account_id,
                    fromTimestamp=page_start,
                    toTimestamp=window_end,
                    maxRows=MAX_ROWS,
                )
            )
            deals = sorted(answer.deal, key=cursor_of)
            yield from (d for d in deals if int(d.dealId) not in seen)
            seen.update(int(d.dealId) for d in deals)
            if not answer.hasMore or not deals:
                break
            page_start = max(page_start, int(deals[-1].executionTimestamp))
        window_start = window_end + 1


def close_reason(order: Any) -> str:
    """Why a closing deal's order ran: STOP_OUT, STOP_LOSS, TRAILING_STOP, TAKE_PROFIT, CLOSE or ORDER."""
    if order.isStopOut:
        return "STOP_OUT"
    if int(order.orderType) == PROTECTION:
        if order.HasField("stopPrice"):
            return "TRAILING_STOP" if order.trailingStopLoss else "STOP_LOSS"
        return "TAKE_PROFIT" if order.HasField("limitPrice") else "PROTECTION"
    return "CLOSE" if order.closingOrder else "ORDER"


def events_since(client: CTraderClient, cursor: str) -> list[BrokerEvent]:
    """Every filled deal after ``cursor`` as a typed event (one per deal, its Fill with P/L, swap, commission)."""
    after = parse_cursor(cursor)
    now = client.server_time_ms()
    if after[0] <= 0:  # no cursor yet: the sync starts a new account at its creation; look back a week at most
        after = (now - WEEK_MS, 0)
    orders: dict[int, Any] = {}
    events = []
    for deal in deals_between(client, after[0], now + 60_000):
        if cursor_of(deal) <= after or int(deal.dealStatus) not in parse.FILLED_DEALS:
            continue
        order_id = int(deal.orderId)
        if order_id not in orders:
            details = client.call(pb.oa.ProtoOAOrderDetailsReq(ctidTraderAccountId=client.account_id, orderId=order_id))
            orders[order_id] = details.order
        order = orders[order_id]
        spec = client.spec_by_id(int(deal.symbolId))
        fill = parse.fill([deal], {spec.symbol_id: spec})
        events.append(
            BrokerEvent(
                transaction_id=f"{int(deal.executionTimestamp)}:{int(deal.dealId)}",
                type="DEAL",
                time=time_of_ms(deal.executionTimestamp),
                symbol=parse.platform_symbol(spec.name),
                reason=close_reason(order) if deal.HasField("closePositionDetail") else "OPEN",
                order_id=str(order_id),
                client_order_id=_client_order_id(order),
                fill=fill,
                financing=fill.trade_reduced.financing if fill.trade_reduced else Decimal(0),
            )
        )
    return events


def _client_order_id(order: Any) -> str:
    """Ours only on orders we placed (a closing order copies the position's comment, never a clientOrderId); a
    digest of a long id is replaced by the full id from the comment."""
    wire = str(order.clientOrderId)
    if len(wire) == MAX_CLIENT_ORDER_ID and wire.startswith("h"):
        return client_order_id_of_comment(str(order.tradeData.comment)) or wire
    return wire


def trade(client: CTraderClient, position_id: str) -> BrokerTrade:
    """One position, open (from the open positions) or closed (from its deals)."""
    for position in client.reconcile().position:
        if str(position.positionId) == str(position_id):
            spec = client.spec_by_id(int(position.tradeData.symbolId))
            return parse.trade(position, spec, unrealized=client.unrealized().get(int(position.positionId), Decimal(0)))
    now = client.server_time_ms()
    deals: list[Any] = []
    for weeks in range(0, 52):
        answer = client.call(
            pb.oa.ProtoOADealListByPositionIdReq(
                ctidTraderAccountId=client.account_id,
                positionId=int(position_id),
                fromTimestamp=max(0, now - (weeks + 1) * WEEK_MS),
                toTimestamp=now - weeks * WEEK_MS + 60_000,
            )
        )
        deals = [d for d in answer.deal if int(d.dealStatus) in parse.FILLED_DEALS] + deals
        if any(not d.HasField("closePositionDetail") for d in deals):
            break
    if not deals:
        raise BrokerNotFoundError(f"cTrader position {position_id} is unknown", reason="POSITION_NOT_FOUND")
    deals.sort(key=cursor_of)
    spec = client.spec_by_id(int(deals[0].symbolId))
    opening = next((d for d in deals if not d.HasField("closePositionDetail")), deals[0])
    closing = [d for d in deals if d.HasField("closePositionDetail")]
    opened = sum((units_of(d.filledVolume) for d in deals if not d.HasField("closePositionDetail")), Decimal(0))
    closed = sum((units_of(d.closePositionDetail.closedVolume) for d in closing), Decimal(0))

    def money(d: Any, name: str) -> Decimal:
        detail = d.closePositionDetail
        return money_of(getattr(detail, name), detail.moneyDigits if detail.HasField("moneyDigits") else None)

    return BrokerTrade(
        broker_trade_id=str(position_id),
        symbol=parse.platform_symbol(spec.name),
        side=parse.side_of(opening.tradeSide),
        initial_units=opened,
        current_units=max(opened - closed, Decimal(0)),
        open_price=price_of_double(opening.executionPrice, spec.digits),
        open_time=time_of_ms(opening.executionTimestamp),
        state="closed" if closing and closed >= opened else "open",
        realized_pl=sum((money(d, "grossProfit") for d in closing), Decimal(0)),
        financing=sum((money(d, "swap") for d in closing), Decimal(0)),
        close_time=time_of_ms(closing[-1].executionTimestamp) if closing else None,
        close_price=price_of_double(closing[-1].executionPrice, spec.digits) if closing else None,
    )


def trendbars(
    client: CTraderClient, broker_symbol: str, minutes: int, start: datetime, end: datetime
) -> list[Trendbar]:
    """Bars of ``minutes`` with open time in [start, end), oldest first (trend bars are bid prices)."""
    try:
        period = PERIODS[minutes]
    except KeyError:
        raise ValueError(f"cTrader has no {minutes}-minute trend bars") from None
    spec = client.spec(broker_symbol)
    span = minutes * 60_000 * 5000  # at most 5,000 bars a request
    bars: dict[int, Trendbar] = {}
    window = ms_of(start)
    stop = ms_of(end)
    while window < stop:
        window_end = min(stop, window + span)
        answer = client.call(
            pb.oa.ProtoOAGetTrendbarsReq(
                ctidTraderAccountId=client.account_id,
                fromTimestamp=window,
                toTimestamp=window_end,
                period=period,
                symbolId=spec.symbol_id,
            )
        )
        for bar in answer.trendbar:
            opened = int(bar.utcTimestampInMinutes) * 60_000
            if ms_of(start) <= opened < stop:
                low = int(bar.low)
                bars[opened] = Trendbar(
                    time=time_of_ms(opened),
                    open=price_of_int(low + int(bar.deltaOpen), spec.digits),
                    high=price_of_int(low + int(bar.deltaHigh), spec.digits),
                    low=price_of_int(low, spec.digits),
                    close=price_of_int(low + int(bar.deltaClose), spec.digits),
                    volume=int(bar.volume),
                )
        window = window_end
    return [bars[k] for k in sorted(bars)]
