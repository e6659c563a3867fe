"""Names from the framework's strategy catalog, for display."""

from __future__ import annotations

from framework import strategy_catalog


def strategy_names() -> dict[int, str]:
    """Return {strategy id: name} for every strategy in the catalog."""
    return {spec.id: spec.name for spec in strategy_catalog()}
