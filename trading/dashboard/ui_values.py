"""The strategy's UI values on the instance page: what a strategy reports about itself (Asirikuy's ``<id>.ui``
file: name/value pairs such as the current trend or indicator levels) and when it last reported.

The platform's own strategies report none, so the instance page says "None reported". The legacy import
(issue #12) reads a strategy's ``<id>.ui`` values and heartbeat; it plugs its reader in with
``ui_values_source_set`` and the page shows what it returns, unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from trading.models import StrategyInstance


@dataclass(frozen=True)
class UiValues:
    values: list[tuple[str, str]] = field(default_factory=list)  # (name, value) in the strategy's order
    reported_at: datetime | None = None  # the strategy's last heartbeat, if it keeps one


Source = Callable[[StrategyInstance], UiValues]
_source: Source | None = None


def ui_values_source_set(source: Source | None) -> None:
    """Install the reader of strategies' UI values (None: none is installed)."""
    global _source
    _source = source


def strategy_ui_values(instance: StrategyInstance) -> UiValues:
    """The UI values ``instance``'s strategy last reported; empty when no reader is installed or none came."""
    return _source(instance) if _source is not None else UiValues()
