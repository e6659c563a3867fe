"""The account-currency money quantum, decided once for every column, broker and service.

Money columns hold 6 decimals (``trading.models.fields.money_field``); every amount the platform computes
(P/L, commission shares, financing shares) is rounded to that quantum, half to even, before it is stored.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

MONEY_PLACES = 6
MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_PLACES)


def money(value: Decimal) -> Decimal:
    """``value`` rounded to the money quantum (half to even, as brokers round)."""
    return value.quantize(MONEY_QUANTUM, rounding=ROUND_HALF_EVEN)
