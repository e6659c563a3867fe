"""Instrument create and change: the one write path for the API (the admin saves through the model's clean())."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from trading.models import Instrument


@transaction.atomic
def instrument_create(*, symbol: str, **fields: Any) -> Instrument:
    """Create an instrument; ``clean()`` names any bad field (symbol, currencies, digits, sizes)."""
    fields.setdefault("contract_size", Decimal("100000"))
    instrument = Instrument(symbol=symbol, **fields)
    instrument.full_clean()
    instrument.save()
    return instrument


@transaction.atomic
def instrument_update(instrument: Instrument, **fields: Any) -> Instrument:
    """Change an instrument; refused (field named) when e.g. digits would rescale its stored bars."""
    locked = Instrument.objects.select_for_update().get(pk=instrument.pk)
    for key, value in fields.items():
        setattr(locked, key, value)
    locked.full_clean()
    locked.save()
    return locked
