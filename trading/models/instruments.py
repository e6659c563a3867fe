from __future__ import annotations

import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models

from trading.models.accounts import CURRENCY_RE

SYMBOL_RE = re.compile(r"^[A-Z0-9]{3,20}$")


class InstrumentKind(models.TextChoices):
    CURRENCY = "currency", "Currency pair"
    METAL = "metal", "Metal"
    CFD = "cfd", "CFD"


class Instrument(models.Model):
    """A tradable symbol. Prices of its bars are stored as integer points (10**-digits)."""

    symbol = models.CharField(max_length=20, unique=True, help_text="Platform symbol, e.g. EURUSD")
    broker_symbol = models.CharField(max_length=32, blank=True, help_text="Broker's name, e.g. EUR_USD")
    kind = models.CharField(max_length=16, choices=InstrumentKind.choices, default=InstrumentKind.CURRENCY)
    base_currency = models.CharField(max_length=3)
    quote_currency = models.CharField(max_length=3)
    digits = models.PositiveSmallIntegerField(default=5, help_text="Decimals of a quote; point = 10**-digits")
    pip_location = models.SmallIntegerField(default=-4)
    contract_size = models.DecimalField(max_digits=16, decimal_places=4, default=Decimal("100000"))
    unit_precision = models.PositiveSmallIntegerField(default=0, help_text="Decimals allowed in order units")
    min_units = models.DecimalField(max_digits=16, decimal_places=6, default=Decimal("1"))
    margin_rate = models.DecimalField(max_digits=8, decimal_places=6, default=Decimal("0.02"))
    spread_points = models.PositiveIntegerField(default=10, help_text="Paper broker spread in points")
    minimum_stop_points = models.PositiveIntegerField(default=0)
    always_open = models.BooleanField(
        default=False, help_text="Trades every day (e.g. crypto): no weekend or holiday closes"
    )
    simulated = models.BooleanField(
        default=False, help_text="Demo instrument: its M1 bars come from the built-in simulated live feed"
    )

    class Meta:
        ordering = ["symbol"]

    def __str__(self) -> str:
        return self.symbol

    @property
    def point(self) -> Decimal:
        return Decimal(1).scaleb(-self.digits)

    def to_points(self, price: Decimal) -> int:
        """Price → integer points; refuses prices finer than the instrument's digits."""
        scaled = price.scaleb(self.digits)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{price} has more than {self.digits} decimals for {self.symbol}")
        return int(scaled)

    def from_points(self, points: int) -> Decimal:
        return Decimal(points).scaleb(-self.digits)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not SYMBOL_RE.match(self.symbol or ""):
            errors["symbol"] = f"{self.symbol!r} must be 3-20 upper-case letters or digits, e.g. EURUSD"
        for field in ("base_currency", "quote_currency"):
            value = getattr(self, field)
            if not CURRENCY_RE.match(value or ""):
                errors[field] = f"{value!r} is not a three-letter currency code"
        if self.digits is not None and self.digits > 10:
            errors["digits"] = f"digits must be 0..10, was {self.digits}"
        if self.contract_size is not None and self.contract_size <= 0:
            errors["contract_size"] = f"contract size must be positive, was {self.contract_size}"
        if self.margin_rate is not None and not (0 < self.margin_rate <= 1):
            errors["margin_rate"] = f"margin rate must be in (0, 1], was {self.margin_rate}"
        if self.pk is not None and self.digits is not None and "digits" not in errors:
            errors.update(self._stored_points_errors())
        if errors:
            raise ValidationError(errors)

    def _stored_points_errors(self) -> dict[str, str]:
        """Bars are stored as integer points of ``digits``: changing digits under them would rescale every price."""
        stored = type(self).objects.filter(pk=self.pk).values_list("digits", flat=True).first()
        if stored is None or stored == self.digits:
            return {}
        bars = self.bars.count()
        if not bars:
            return {}
        return {
            "digits": f"digits cannot change from {stored} to {self.digits} while {bars} bars of {self.symbol} "
            f"are stored in {stored}-digit points; export them, delete them, change digits and "
            f"import them again"
        }
