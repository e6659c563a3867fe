"""Framework.run's typed arguments and answers as plain tuples and arrays, for the wire."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from framework.types import AccountInfo, BidAsk, OrderInfo, OrderSignal, OrderType, RatesSlot, SignalAction

SlotWire = tuple[Any, int, int, int, float, int] | None


def order_from_row(row: Sequence[float]) -> OrderInfo:
    """An OrderInfo from its 15 COrderInfo doubles (OrderInfo.as_row's inverse)."""
    return OrderInfo(
        ticket=int(row[0]),
        instance_id=int(row[1]),
        order_type=OrderType(int(row[2])),
        open_time=int(row[3]),
        close_time=int(row[4]),
        stop_loss=row[5],
        take_profit=row[6],
        expiration=int(row[7]),
        open_price=row[8],
        close_price=row[9],
        lots=row[10],
        profit=row[11],
        commission=row[12],
        swap=row[13],
        is_open=bool(row[14]),
    )


def account_from_row(row: Sequence[float]) -> AccountInfo:
    return AccountInfo(int(row[0]), *row[1:])


def prices_from_row(row: Sequence[float]) -> BidAsk:
    return BidAsk(*row)


def slot_to_wire(slot: RatesSlot | None) -> SlotWire:
    if slot is None:
        return None
    return (
        slot.rates,
        slot.required_timeframe,
        slot.total_bars_required,
        slot.actual_timeframe,
        slot.point,
        slot.digits,
    )


def slot_from_wire(wire: SlotWire) -> RatesSlot | None:
    if wire is None:
        return None
    rates, required, total, actual, point, digits = wire
    return RatesSlot(rates, required, total, actual, point, digits)


def signal_to_wire(s: OrderSignal) -> tuple[Any, ...]:
    return (
        s.action.value,
        int(s.order_type),
        s.ticket,
        s.lots,
        s.entry_price,
        s.sl_distance,
        s.tp_distance,
        s.internal_sl,
        s.internal_tp,
        s.trailing,
        s.expiration,
    )


def signal_from_wire(wire: Sequence[Any]) -> OrderSignal:
    action, order_type, *rest = wire
    return OrderSignal(SignalAction(action), OrderType(order_type), *rest)
