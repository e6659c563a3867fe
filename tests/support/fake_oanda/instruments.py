"""Instruments the fake offers, with OANDA's precisions and a starting price."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class FakeInstrument:
    name: str
    display_precision: int
    pip_location: int
    bid: Decimal
    ask: Decimal
    type: str = "CURRENCY"
    units_precision: int = 0
    margin_rate: Decimal = Decimal("0.02")

    def as_json(self) -> dict[str, object]:
        base, quote = self.name.split("_")
        return {
            "name": self.name,
            "type": self.type,
            "displayName": f"{base}/{quote}",
            "pipLocation": self.pip_location,
            "displayPrecision": self.display_precision,
            "tradeUnitsPrecision": self.units_precision,
            "minimumTradeSize": "1",
            "maximumTrailingStopDistance": "1.00000",
            "minimumTrailingStopDistance": "0.00050" if self.display_precision == 5 else "0.050",
            "maximumPositionSize": "0",
            "maximumOrderUnits": "100000000",
            "marginRate": f"{self.margin_rate}",
            "guaranteedStopLossOrderMode": "DISABLED",
            "tags": [],
            "financing": {"longRate": "-0.0100", "shortRate": "-0.0100", "financingDaysOfWeek": []},
        }


DEFAULT_INSTRUMENTS: tuple[FakeInstrument, ...] = (
    FakeInstrument("EUR_USD", 5, -4, Decimal("1.10000"), Decimal("1.10010")),
    FakeInstrument("GBP_USD", 5, -4, Decimal("1.27000"), Decimal("1.27015")),
    FakeInstrument("AUD_USD", 5, -4, Decimal("0.66000"), Decimal("0.66012")),
    FakeInstrument("USD_JPY", 3, -2, Decimal("150.000"), Decimal("150.012"), margin_rate=Decimal("0.04")),
    FakeInstrument("EUR_JPY", 3, -2, Decimal("165.000"), Decimal("165.020"), margin_rate=Decimal("0.04")),
    FakeInstrument(
        "XAU_USD", 3, -2, Decimal("2300.000"), Decimal("2300.400"), type="METAL", margin_rate=Decimal("0.05")
    ),
)
