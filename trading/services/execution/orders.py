"""The orders and signal notes a run writes: deterministic client ids, one Order per intent."""

from __future__ import annotations

from datetime import datetime

from framework import OrderSignal
from trading.bars.brokertime import from_framework_time
from trading.models import Execution, OrderIntent, OrderStatus, StrategyInstance
from trading.services.execution.book import InstanceBook
from trading.services.execution.inputs import BROKER_TZ
from trading.services.execution.translate import Intent

_INTENTS = {
    "open": OrderIntent.OPEN,
    "close": OrderIntent.CLOSE,
    "modify": OrderIntent.MODIFY,
    "cancel": OrderIntent.CANCEL,
}


def client_order_id(instance_id: int, bar_time: datetime, intent: Intent) -> str:
    return f"at{instance_id}-{int(bar_time.timestamp())}-{intent.row}{intent.kind[0]}{intent.seq}"


def signal_json(signal: OrderSignal) -> dict[str, object]:
    return {
        "action": signal.action.value,
        "type": signal.order_type.name,
        "ticket": signal.ticket,
        "lots": signal.lots,
        "entry": signal.entry_price,
        "sl": signal.sl_distance,
        "tp": signal.tp_distance,
        "trailing": signal.trailing,
        "expiration": signal.expiration,
    }


def order_fields(
    instance: StrategyInstance, execution: Execution, intent: Intent, book: InstanceBook
) -> dict[str, object]:
    fields: dict[str, object] = {
        "account_id": instance.account_id,
        "instance": instance,
        "instrument_id": instance.instrument_id,
        "execution": execution,
        "intent": _INTENTS[intent.kind],
        "order_type": intent.order_type,
        "side": intent.side,
        "units": intent.units,
        "price": intent.price,
        "stop_loss": intent.stop_loss,
        "take_profit": intent.take_profit,
        "bar_time": execution.bar_time,
        "status": OrderStatus.NEW,
    }
    if intent.expires_at:
        fields["expires_at"] = from_framework_time(intent.expires_at, BROKER_TZ)
    if intent.target_ticket is not None:
        target = book.by_ticket[intent.target_ticket]
        fields["target" if intent.kind == "cancel" else "trade"] = target
    return fields
