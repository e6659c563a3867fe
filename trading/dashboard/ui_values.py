"""The strategy's UI values on the instance page: what a strategy reports about itself (Asirikuy's ``<id>.ui``
file: name/value pairs such as the current trend or indicator levels) and its heartbeat.

A foreign Asirikuy library writes them after each run and the legacy import keeps them on the instance's
foreign-library settings (``trading.legacy.status``); that is the default source. The platform's own strategies
report none, so their page says "None reported". Another reader can be installed with ``ui_values_source_set``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from trading.models import StrategyInstance


@dataclass(frozen=True)
class UiValues:
    values: list[tuple[str, str]] = field(default_factory=list)  # (name, value) in the strategy's order
    reported_at: datetime | None = None  # when the strategy last wrote its heartbeat
    heartbeat: str = ""


Source = Callable[[StrategyInstance], UiValues]


def legacy_ui_values(instance: StrategyInstance) -> UiValues:
    """What the instance's foreign library last wrote (nothing for our own strategies)."""
    from trading.legacy.status import legacy_status

    status = legacy_status(instance.pk)
    if status is None:
        return UiValues()
    pairs = [(str(p[0]), str(p[1]) if len(p) > 1 else "") for p in status.ui_values if p]
    return UiValues(values=pairs, reported_at=status.heartbeat_at, heartbeat=status.heartbeat)


_source: Source = legacy_ui_values


def ui_values_source_set(source: Source | None) -> None:
    """Install another reader of strategies' UI values (None: back to the legacy import's)."""
    global _source
    _source = source or legacy_ui_values


def strategy_ui_values(instance: StrategyInstance) -> UiValues:
    """The UI values ``instance``'s strategy last reported; empty when it reported none."""
    return _source(instance)
