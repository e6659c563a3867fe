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

    @property
    def minimum_trailing(self) -> Decimal:
        """Five pips, OANDA's usual minimum trailing distance for FX."""
        return (Decimal(5) * Decimal(1).scaleb(self.pip_location)).quantize(Decimal(1).scaleb(-self.display_precision))

    @property
    def maximum_trailing(self) -> Decimal:
        return Decimal(1).quantize(Decimal(1).scaleb(-self.display_precision))

    def trailing_problem(self, distance: Decimal) -> str:
        """OANDA's reject reason suffix for a trailing distance outside the limits, or ""."""
        if distance < self.minimum_trailing:
            return "PRICE_DISTANCE_MINIMUM_NOT_MET"
        if distance > self.maximum_trailing:
            return "PRICE_DISTANCE_MAXIMUM_EXCEEDED"
        return ""

    def as_json(self) -> dict[str, object]:
        base, quote = self.name.rsplit("_", 1)
        return {
            "name": self.name,
            "type": self.type,
            "displayName": f"{base}/{quote}",
            "pipLocation": self.pip_location,
            "displayPrecision": self.display_precision,
            "tradeUnitsPrecision": self.units_precision,
            "minimumTradeSize": "1",
            "maximumTrailingStopDistance": f"{self.maximum_trailing:f}",
            "minimumTrailingStopDistance": f"{self.minimum_trailing:f}",
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
