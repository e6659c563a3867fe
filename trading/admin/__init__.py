"""Admin for every trading model. Saves and actions go through the services (validation, scheduling)."""

from trading.admin import (
    accounts,
    bars,
    executions,
    instances,
    instruments,
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
    "orders",
    "trades",
    "reconciliation",
    "sharing",
]
