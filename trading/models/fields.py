"""Column shapes shared by every money, price and unit column, so precision is decided once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models

from trading.money import MONEY_PLACES


def money_field(**kwargs: Any) -> models.DecimalField:
    """Account-currency amounts: 18 integer digits, 6 decimals (OANDA reports 4)."""
    kwargs.setdefault("default", Decimal("0"))
    return models.DecimalField(max_digits=18 + MONEY_PLACES, decimal_places=MONEY_PLACES, **kwargs)


def price_field(**kwargs: Any) -> models.DecimalField:
    """Instrument prices: up to 10 decimals covers every FX, metal and CFD quote."""
    return models.DecimalField(max_digits=20, decimal_places=10, **kwargs)


def units_field(**kwargs: Any) -> models.DecimalField:
    """Position sizes in instrument units (OANDA units; lots × contract size)."""
    return models.DecimalField(max_digits=20, decimal_places=6, **kwargs)
