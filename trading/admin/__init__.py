"""Admin for every trading model. Saves and actions go through the services (validation, scheduling)."""

from trading.admin import (
    accounts,
    bars,
    executions,
    instances,
    instruments,
    legacy,
    orders,
    reconciliation,
    sharing,
    trades,
)

__all__ = [
    "accounts",
    "bars",
    "executions",
    "instances",
    "instruments",
    "legacy",
    "orders",
    "trades",
    "reconciliation",
    "sharing",
]
