"""A cTrader broker's symbol catalog → the platform's instruments (digits, pip location, contract size, volumes).

Instruments are shared by every broker (one EURUSD, whatever broker trades it), so an instrument that exists is
never rewritten from one broker's catalog: its differences from this broker are reported instead. The volume
step cannot be stored (units are rounded to ``unit_precision``); the client refuses an order off the step.
"""

from __future__ import annotations

from dataclasses import dataclass

from brokers.ctrader import SymbolSpec
from brokers.ctrader.parse import platform_symbol
from trading.models import BrokerAccount, Instrument, InstrumentKind
from trading.services.instruments import instrument_create
from trading.venues.ctrader.client import ctrader_client

_METALS = {"XAU", "XAG", "XPT", "XPD"}


@dataclass(frozen=True)
class CatalogLine:
    symbol: str
    broker_symbol: str
    outcome: str  # created | exists | differs: … | skipped: …


def instrument_fields(spec: SymbolSpec) -> dict[str, object]:
    base, quote = spec.base_asset.upper(), spec.quote_asset.upper()
    fx = len(base) == 3 and len(quote) == 3 and base.isalpha() and quote.isalpha()
    kind = InstrumentKind.METAL if base in _METALS else InstrumentKind.CURRENCY if fx else InstrumentKind.CFD
    return {
        "broker_symbol": spec.name,
        "kind": kind,
        "base_currency": base if len(base) == 3 and base.isalpha() else quote,
        "quote_currency": quote,
        "digits": spec.digits,
        "pip_location": -spec.pip_position,
        "contract_size": spec.lot_units,
        "min_units": spec.min_units,
        "unit_precision": spec.unit_precision,
    }


def ctrader_catalog(
    account: BrokerAccount, *, symbols: list[str] | None = None, create: bool = False
) -> list[CatalogLine]:
    """Compare (and with ``create``, add) the broker's symbols with our instruments."""
    client = ctrader_client(account)
    specs = [client.spec(s) for s in symbols] if symbols else client.symbol_specs()
    lines = []
    for spec in specs:
        symbol = platform_symbol(spec.name)
        fields = instrument_fields(spec)
        existing = Instrument.objects.filter(symbol=symbol).first()
        if existing is not None:
            differs = [
                f"{name} {getattr(existing, name)} here, {value} at the broker"
                for name, value in fields.items()
                if name in ("digits", "contract_size", "pip_location") and getattr(existing, name) != value
            ]
            lines.append(CatalogLine(symbol, spec.name, "differs: " + "; ".join(differs) if differs else "exists"))
        elif not create:
            lines.append(CatalogLine(symbol, spec.name, "missing"))
        elif len(str(fields["quote_currency"])) != 3:
            lines.append(CatalogLine(symbol, spec.name, f"skipped: quote asset {fields['quote_currency']!r}"))
        else:
            instrument_create(symbol=symbol, **fields)
            lines.append(CatalogLine(symbol, spec.name, "created"))
    return lines
