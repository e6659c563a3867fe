"""What the notifier reads from the trading tables, and the event each change becomes.

One ``Tail`` per table (orders, trades, executions, guard-rail blocks, the audit log, discrepancies); each row
that reaches a final state becomes at most one event and advances the row counters of ``/metrics``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ops.notify.outbox import Outbox
from ops.notify.risk_sources import AUDIT, BLOCKS, DISCREPANCIES, audit_event, block_event, discrepancy_event
from ops.notify.tail import Tail
from ops.notify.trading_sources import (
    EXECUTIONS,
    ORDERS,
    TRADES,
    execution_event,
    order_event,
    trade_event,
)

__all__ = ["ORDERS", "SOURCES", "Outbox"]

SOURCES: list[tuple[Tail, Callable[[dict[str, Any], Outbox], None]]] = [
    (ORDERS, order_event),
    (TRADES, trade_event),
    (EXECUTIONS, execution_event),
    (BLOCKS, block_event),
    (AUDIT, audit_event),
    (DISCREPANCIES, discrepancy_event),
]
