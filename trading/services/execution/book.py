"""An instance's own orders as the framework needs them: open trades, pending orders, recent closes.

Tickets are int32 and shared: a trade's ticket is its id, a pending order's ticket is
PENDING_TICKET_OFFSET + its id. Only the instance's own rows are read (magic-number isolation).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from framework import OrderInfo
from framework import OrderType as FwOrderType
from trading.bars.brokertime import framework_time
from trading.models import Order, OrderIntent, OrderStatus, Side, StrategyInstance, Trade, TradeState
from trading.services.execution.translate import PositionView

BROKER_TZ = "UTC"
_PENDING_TYPES = {
    (Side.BUY, "limit"): FwOrderType.BUYLIMIT,
    (Side.SELL, "limit"): FwOrderType.SELLLIMIT,
    (Side.BUY, "stop"): FwOrderType.BUYSTOP,
    (Side.SELL, "stop"): FwOrderType.SELLSTOP,
}


@dataclass(frozen=True)
class InstanceBook:
    infos: list[OrderInfo]
    positions: list[PositionView]
    by_ticket: dict[int, Trade | Order]


def _market_type(side: str) -> FwOrderType:
    return FwOrderType.BUY if side == Side.BUY else FwOrderType.SELL


def _trades(instance: StrategyInstance, capacity: int) -> tuple[list[Trade], list[Trade]]:
    """Open trades (newest first) and the newest ``capacity`` closed ones (newest close first)."""
    open_q = Trade.objects.filter(instance=instance, state=TradeState.OPEN)
    closed_q = Trade.objects.filter(instance=instance, state=TradeState.CLOSED).order_by("-close_time")[:capacity]
    if not connection.features.supports_slicing_ordering_in_compound:  # SQLite: no LIMIT inside a UNION
        return list(open_q.order_by("-open_time")), list(closed_q)
    trades = list(open_q.order_by().union(closed_q, all=True))  # one round trip instead of two
    open_trades = sorted((t for t in trades if t.state == TradeState.OPEN), key=lambda t: t.open_time, reverse=True)
    # NULL close times first, as ORDER BY close_time DESC puts them.
    closed = sorted((t for t in trades if t.state != TradeState.OPEN),
                    key=lambda t: (t.close_time is None, t.close_time or t.open_time), reverse=True)
    return open_trades, closed


def instance_book(instance: StrategyInstance, *, contract_size: Decimal, capacity: int) -> InstanceBook:
    infos: list[OrderInfo] = []
    positions: list[PositionView] = []
    by_ticket: dict[int, Trade | Order] = {}

    def lots(units: Decimal) -> float:
        return float(units / contract_size)

    open_trades, closed_trades = _trades(instance, capacity)
    for t in open_trades:
        infos.append(OrderInfo(
            ticket=t.ticket, instance_id=instance.instance_id, order_type=_market_type(t.side),
            open_time=framework_time(t.open_time, BROKER_TZ), stop_loss=float(t.stop_loss or 0),
            take_profit=float(t.take_profit or 0), open_price=float(t.open_price), lots=lots(t.current_units),
            profit=float(t.unrealized_pl), swap=float(t.financing), commission=float(t.commission), is_open=True,
        ))
        positions.append(PositionView(ticket=t.ticket, side=t.side, units=t.current_units,  # type: ignore[arg-type]
                                      open_price=t.open_price, stop_loss=t.stop_loss, take_profit=t.take_profit))
        by_ticket[t.ticket] = t
    pending = Order.objects.filter(
        instance=instance, intent=OrderIntent.OPEN, status__in=(OrderStatus.PENDING, OrderStatus.NEW)
    ).exclude(order_type="market").order_by("-created_at")
    for o in pending:
        infos.append(OrderInfo(
            ticket=o.ticket, instance_id=instance.instance_id, order_type=_PENDING_TYPES[(o.side, o.order_type)],
            open_time=framework_time(o.created_at, BROKER_TZ), stop_loss=float(o.stop_loss or 0),
            take_profit=float(o.take_profit or 0),
            expiration=framework_time(o.expires_at, BROKER_TZ) if o.expires_at else 0,
            open_price=float(o.price or 0), lots=lots(o.units), is_open=True,
        ))
        positions.append(PositionView(ticket=o.ticket, side=o.side, units=o.units,  # type: ignore[arg-type]
                                      open_price=o.price or Decimal(0), stop_loss=o.stop_loss,
                                      take_profit=o.take_profit, pending_type=o.order_type))  # type: ignore[arg-type]
        by_ticket[o.ticket] = o
    room = max(capacity - len(infos), 0)
    if room:
        for t in closed_trades[:room]:
            infos.append(OrderInfo(
                ticket=t.ticket, instance_id=instance.instance_id, order_type=_market_type(t.side),
                open_time=framework_time(t.open_time, BROKER_TZ),
                close_time=framework_time(t.close_time, BROKER_TZ) if t.close_time else 0,
                stop_loss=float(t.stop_loss or 0), take_profit=float(t.take_profit or 0),
                open_price=float(t.open_price), close_price=float(t.close_price or 0), lots=lots(t.initial_units),
                profit=float(t.realized_pl), swap=float(t.financing), commission=float(t.commission), is_open=False,
            ))
    return InstanceBook(infos=infos, positions=positions, by_ticket=by_ticket)
