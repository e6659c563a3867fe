"""Framework signals → order intents. Pure: no database, no broker, so live runs and backtests share it.

Rules (following the legacy front ends, stricter where they were vague):
- Rows are handled closes first, then opens, then updates, so a reversal closes before it re-opens.
- OPEN: units = lots × contract size, rounded down to the instrument's unit precision; below the
  minimum size the signal is dropped (and reported). Market entries reference the ask (buy) / bid (sell);
  pending entries use the signal's entry price. SL/TP are distances from the entry, 0 = none.
- CLOSE of BUY/SELL closes that trade (or, with ticket −1, every open trade of that side); CLOSE of a
  pending type cancels that order (or all of that type).
- UPDATE of an open trade moves SL to ask − distance (buy) / bid + distance (sell) and TP to
  ask + distance / bid − distance; a distance of 0 leaves that side unchanged; unchanged levels send
  nothing. Updates of pending orders are not supported and are reported as ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import Literal

from framework import OrderSignal, SignalAction
from framework import OrderType as FwOrderType

IntentKind = Literal["open", "close", "modify", "cancel"]
Side = Literal["buy", "sell"]
PendingType = Literal["limit", "stop"]


@dataclass(frozen=True)
class PositionView:
    """An open trade (pending_type None) or a pending order of the instance, as the framework saw it."""

    ticket: int
    side: Side
    units: Decimal
    open_price: Decimal
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    pending_type: PendingType | None = None


@dataclass(frozen=True)
class Intent:
    kind: IntentKind
    row: int
    seq: int  # position among the intents of the row, for the deterministic client order id
    side: Side
    order_type: Literal["market", "limit", "stop"] = "market"
    units: Decimal = Decimal(0)
    price: Decimal | None = None
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    expires_at: int = 0  # epoch seconds (framework time), 0 = none
    target_ticket: int | None = None


@dataclass(frozen=True)
class InstrumentSpec:
    digits: int
    contract_size: Decimal
    unit_precision: int
    min_units: Decimal


@dataclass(frozen=True)
class Translation:
    intents: list[Intent]
    notes: list[str]  # signals dropped or ignored, and why


_SIDE: dict[FwOrderType, Side] = {
    FwOrderType.BUY: "buy",
    FwOrderType.SELL: "sell",
    FwOrderType.BUYLIMIT: "buy",
    FwOrderType.SELLLIMIT: "sell",
    FwOrderType.BUYSTOP: "buy",
    FwOrderType.SELLSTOP: "sell",
}
_PENDING: dict[FwOrderType, PendingType] = {
    FwOrderType.BUYLIMIT: "limit",
    FwOrderType.SELLLIMIT: "limit",
    FwOrderType.BUYSTOP: "stop",
    FwOrderType.SELLSTOP: "stop",
}
_ORDER = {SignalAction.CLOSE: 0, SignalAction.OPEN: 1, SignalAction.UPDATE: 2}


def _price(value: float, digits: int) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN)


def _matches(position: PositionView, signal: OrderSignal) -> bool:
    kind = _PENDING.get(signal.order_type)
    if position.pending_type != kind or position.side != _SIDE[signal.order_type]:
        return False
    return signal.ticket in (-1, position.ticket)


def signals_to_intents(
    signals: list[OrderSignal],
    *,
    positions: list[PositionView],
    bid: Decimal,
    ask: Decimal,
    spec: InstrumentSpec,
) -> Translation:
    intents: list[Intent] = []
    notes: list[str] = []
    ordered = sorted(enumerate(signals), key=lambda item: (_ORDER[item[1].action], item[0]))
    for row, signal in ordered:
        side = _SIDE[signal.order_type]
        if signal.action == SignalAction.CLOSE:
            targets = [p for p in positions if _matches(p, signal)]
            if not targets:
                notes.append(
                    f"row {row}: close of {signal.order_type.name} ticket {signal.ticket} matched nothing open"
                )
            for seq, p in enumerate(targets):
                kind: IntentKind = "cancel" if p.pending_type else "close"
                intents.append(Intent(kind=kind, row=row, seq=seq, side=p.side, units=p.units, target_ticket=p.ticket))
        elif signal.action == SignalAction.OPEN:
            units = (Decimal(repr(signal.lots)) * spec.contract_size).quantize(
                Decimal(1).scaleb(-spec.unit_precision), rounding=ROUND_DOWN
            )
            if units < spec.min_units or units <= 0:
                notes.append(f"row {row}: {signal.lots} lots is {units} units, below the minimum {spec.min_units}")
                continue
            pending = _PENDING.get(signal.order_type)
            if pending:
                entry = _price(signal.entry_price, spec.digits)
            else:
                entry = ask if side == "buy" else bid
            sign = 1 if side == "buy" else -1
            sl = _price(float(entry) - sign * signal.sl_distance, spec.digits) if signal.sl_distance > 0 else None
            tp = _price(float(entry) + sign * signal.tp_distance, spec.digits) if signal.tp_distance > 0 else None
            intents.append(
                Intent(
                    kind="open",
                    row=row,
                    seq=0,
                    side=side,
                    order_type=pending or "market",
                    units=units,
                    price=entry,
                    stop_loss=sl,
                    take_profit=tp,
                    expires_at=signal.expiration if pending else 0,
                )
            )
        else:
            if signal.order_type in _PENDING:
                notes.append(f"row {row}: update of pending {signal.order_type.name} orders is not supported; ignored")
                continue
            targets = [p for p in positions if _matches(p, signal)]
            reference = ask if side == "buy" else bid
            sign = 1 if side == "buy" else -1
            for seq, p in enumerate(targets):
                sl = (
                    _price(float(reference) - sign * signal.sl_distance, spec.digits)
                    if signal.sl_distance > 0
                    else None
                )
                tp = (
                    _price(float(reference) + sign * signal.tp_distance, spec.digits)
                    if signal.tp_distance > 0
                    else None
                )
                if (sl is None or sl == p.stop_loss) and (tp is None or tp == p.take_profit):
                    continue
                intents.append(
                    Intent(
                        kind="modify",
                        row=row,
                        seq=seq,
                        side=p.side,
                        units=p.units,
                        stop_loss=sl,
                        take_profit=tp,
                        target_ticket=p.ticket,
                    )
                )
    return Translation(intents=intents, notes=notes)
