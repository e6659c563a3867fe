"""An instance's own orders as the framework needs them: open trades, pending orders, recent closes.

Tickets are int32 and shared: a trade's ticket is its id, a pending order's ticket is
PENDING_TICKET_OFFSET + its id. Only the instance's own rows are read (magic-number isolation).

A market entry still in flight (NEW, SUBMITTING, or UNKNOWN after a lost answer) is shown to the strategy as
an open position under its order's ticket: it will most likely be one, and a strategy that does not see it
opens again at the next bar (positions stack past ``max_open_orders``). It is not offered for closing or
modifying (there is no trade yet); the strategy sees the trade at its next bar once the fill is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import F, Window
from django.db.models.functions import RowNumber

from framework import OrderInfo
from framework import OrderType as FwOrderType
from trading.bars.brokertime import framework_time
from trading.models import Order, OrderIntent, OrderStatus, Side, StrategyInstance, Trade, TradeState
from trading.services.execution.translate import PendingType, PositionView
from trading.services.execution.translate import Side as ViewSide

BROKER_TZ = "UTC"
_PENDING_TYPES: dict[tuple[str, str], FwOrderType] = {
    (Side.BUY, "limit"): FwOrderType.BUYLIMIT,
    (Side.SELL, "limit"): FwOrderType.SELLLIMIT,
    (Side.BUY, "stop"): FwOrderType.BUYSTOP,
    (Side.SELL, "stop"): FwOrderType.SELLSTOP,
}


def _view_side(side: str) -> ViewSide:
    """A stored side as the framework view's literal (the column only holds buy/sell)."""
    if side == "buy":
        return "buy"
    if side == "sell":
        return "sell"
    raise ValueError(f"side {side!r} is neither buy nor sell")


def _view_pending(order_type: str) -> PendingType:
    if order_type == "limit":
        return "limit"
    if order_type == "stop":
        return "stop"
    raise ValueError(f"pending order type {order_type!r} is neither limit nor stop")


@dataclass(frozen=True)
class InstanceBook:
    infos: list[OrderInfo]
    positions: list[PositionView]
    by_ticket: dict[int, Trade | Order]
    open_count: int = 0  # open trades + pending entries + market entries in flight (the guard's count)


# An entry order in one of these states may still become a trade.
IN_FLIGHT = (OrderStatus.NEW, OrderStatus.SUBMITTING, OrderStatus.UNKNOWN)


@dataclass(frozen=True)
class BookRows:
    """One instance's rows: open trades (newest first), pending entries (newest first), recent closes, and
    market entries in flight (newest first)."""

    open_trades: list[Trade]
    pending: list[Order]
    closed: list[Trade]  # newest close first (NULL close times first), at most ``capacity``
    capacity: int
    in_flight: list[Order] = field(default_factory=list)

    @property
    def open_count(self) -> int:
        """Positions the instance holds or may hold once its orders in flight are answered."""
        return len(self.open_trades) + len(self.pending) + len(self.in_flight)

    def for_instance(self, instance_id: int, *, contract_size: Decimal, capacity: int) -> InstanceBook:
        return _book(instance_id, self, contract_size=contract_size, capacity=capacity)


def _market_type(side: str) -> FwOrderType:
    return FwOrderType.BUY if side == Side.BUY else FwOrderType.SELL


def _newest_closes(instance_ids: list[int], capacity: int) -> list[Trade]:
    """The newest ``capacity`` closed trades of each instance, in one query for the whole batch."""
    rank = Window(
        RowNumber(),
        partition_by=[F("instance_id")],
        order_by=[F("close_time").desc(nulls_first=True), F("open_time").desc()],
    )
    return list(
        Trade.objects.filter(instance_id__in=instance_ids, state=TradeState.CLOSED)
        .annotate(rank=rank)
        .filter(rank__lte=capacity)
    )


def instance_books(instance_ids: list[int], *, capacity: int) -> dict[int, BookRows]:
    """The book rows of every instance in ``instance_ids``: three queries however many instances."""
    by_instance: dict[int, tuple[list[Trade], list[Order], list[Trade], list[Order]]] = {
        i: ([], [], [], []) for i in instance_ids
    }
    for t in Trade.objects.filter(instance_id__in=instance_ids, state=TradeState.OPEN):
        assert t.instance_id is not None  # filtered on it
        by_instance[t.instance_id][0].append(t)
    entries = Order.objects.filter(
        instance_id__in=instance_ids, intent=OrderIntent.OPEN, status__in=(OrderStatus.PENDING, *IN_FLIGHT)
    )
    for o in entries:
        assert o.instance_id is not None  # filtered on it
        if o.order_type != "market":
            by_instance[o.instance_id][1].append(o)
        elif o.status != OrderStatus.PENDING:
            by_instance[o.instance_id][3].append(o)
    for t in _newest_closes(instance_ids, capacity):
        assert t.instance_id is not None  # filtered on it
        by_instance[t.instance_id][2].append(t)
    out = {}
    for instance_id, (open_trades, orders, closed, in_flight) in by_instance.items():
        open_trades.sort(key=lambda t: t.open_time, reverse=True)
        orders.sort(key=lambda o: o.created_at, reverse=True)
        closed.sort(key=lambda t: (t.close_time is None, t.close_time or t.open_time), reverse=True)
        in_flight.sort(key=lambda o: o.created_at, reverse=True)
        out[instance_id] = BookRows(open_trades, orders, closed, capacity, in_flight)
    return out


def instance_book(instance: StrategyInstance, *, contract_size: Decimal, capacity: int) -> InstanceBook:
    rows = instance_books([instance.instance_id], capacity=capacity)[instance.instance_id]
    return rows.for_instance(instance.instance_id, contract_size=contract_size, capacity=capacity)


def _book(instance_id: int, rows: BookRows, *, contract_size: Decimal, capacity: int) -> InstanceBook:
    infos: list[OrderInfo] = []
    positions: list[PositionView] = []
    by_ticket: dict[int, Trade | Order] = {}

    def lots(units: Decimal) -> float:
        return float(units / contract_size)

    for t in rows.open_trades:
        infos.append(
            OrderInfo(
                ticket=t.ticket,
                instance_id=instance_id,
                order_type=_market_type(t.side),
                open_time=framework_time(t.open_time, BROKER_TZ),
                stop_loss=float(t.stop_loss or 0),
                take_profit=float(t.take_profit or 0),
                open_price=float(t.open_price),
                lots=lots(t.current_units),
                profit=float(t.unrealized_pl),
                swap=float(t.financing),
                commission=float(t.commission),
                is_open=True,
            )
        )
        positions.append(
            PositionView(
                ticket=t.ticket,
                side=_view_side(t.side),
                units=t.current_units,
                open_price=t.open_price,
                stop_loss=t.stop_loss,
                take_profit=t.take_profit,
            )
        )
        by_ticket[t.ticket] = t
    for o in rows.pending:
        infos.append(
            OrderInfo(
                ticket=o.ticket,
                instance_id=instance_id,
                order_type=_PENDING_TYPES[(o.side, o.order_type)],
                open_time=framework_time(o.created_at, BROKER_TZ),
                stop_loss=float(o.stop_loss or 0),
                take_profit=float(o.take_profit or 0),
                expiration=framework_time(o.expires_at, BROKER_TZ) if o.expires_at else 0,
                open_price=float(o.price or 0),
                lots=lots(o.units),
                is_open=True,
            )
        )
        positions.append(
            PositionView(
                ticket=o.ticket,
                side=_view_side(o.side),
                units=o.units,
                open_price=o.price or Decimal(0),
                stop_loss=o.stop_loss,
                take_profit=o.take_profit,
                pending_type=_view_pending(o.order_type),
            )
        )
        by_ticket[o.ticket] = o
    for o in rows.in_flight:
        # Shown as the position it is about to be; not in ``positions`` (nothing to close or modify yet).
        infos.append(
            OrderInfo(
                ticket=o.ticket,
                instance_id=instance_id,
                order_type=_market_type(o.side),
                open_time=framework_time(o.created_at, BROKER_TZ),
                stop_loss=float(o.stop_loss or 0),
                take_profit=float(o.take_profit or 0),
                open_price=float(o.price or 0),
                lots=lots(o.units),
                is_open=True,
            )
        )
    room = max(capacity - len(infos), 0)
    for t in rows.closed[:room]:
        infos.append(
            OrderInfo(
                ticket=t.ticket,
                instance_id=instance_id,
                order_type=_market_type(t.side),
                open_time=framework_time(t.open_time, BROKER_TZ),
                close_time=framework_time(t.close_time, BROKER_TZ) if t.close_time else 0,
                stop_loss=float(t.stop_loss or 0),
                take_profit=float(t.take_profit or 0),
                open_price=float(t.open_price),
                close_price=float(t.close_price or 0),
                lots=lots(t.initial_units),
                profit=float(t.realized_pl),
                swap=float(t.financing),
                commission=float(t.commission),
                is_open=False,
            )
        )
    return InstanceBook(infos=infos, positions=positions, by_ticket=by_ticket, open_count=rows.open_count)
