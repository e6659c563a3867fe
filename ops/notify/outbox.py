"""What a pass found (events, and row counts for /metrics), and the formatting helpers the sources share."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ops.events import NewEvent, clip
from trading.models import Timeframe


@dataclass
class Outbox:
    """What a pass found: events, and row counts for /metrics (applied only once the pass has committed)."""

    events: list[NewEvent] = field(default_factory=list)
    counts: Counter[tuple[str, tuple[str, ...]]] = field(default_factory=Counter)

    def emit(self, event: NewEvent) -> None:
        self.events.append(event)

    def count(self, metric: str, *labels: str) -> None:
        self.counts[(metric, labels)] += 1

    def counts_apply(self) -> None:
        from ops.metrics import registry

        metrics = {"orders": registry.ORDERS, "executions": registry.EXECUTIONS, "blocks": registry.SIGNALS_BLOCKED}
        for (metric, labels), amount in self.counts.items():
            metrics[metric].labels(*labels).inc(amount)
        self.counts.clear()


def number(value: Decimal | float | int | None) -> str:
    if value is None:
        return "?"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def timeframe_label(minutes: int | None) -> str:
    return Timeframe(minutes).label if minutes in Timeframe.values else f"{minutes}m"


def instance_label(row: dict[str, Any], prefix: str = "instance__") -> str:
    if row.get(f"{prefix}name") is None and row.get("instance_id") is None:
        return "no instance"
    return f"{row.get(f'{prefix}name') or 'instance'} (#{row['instance_id']})"


def normalized(text: str) -> str:
    """``text`` without the times and figures that differ between the events of one burst."""
    text = re.sub(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d)?(\.\d+)?([+-]\d\d:\d\d| UTC)?", "<time>", text)
    return clip(re.sub(r"\d+(\.\d+)?", "#", text), 120)
