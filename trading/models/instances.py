from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from trading.models.accounts import BrokerAccount
from trading.models.enums import OperationalMode, Timeframe
from trading.models.instruments import Instrument

INT32_MAX = 2**31 - 1
# Automatic magic numbers stay in 1..999,999,999; users may choose any 1..2**31-1 (MetaTrader-style int).
AUTO_INSTANCE_ID_MAX = 999_999_999
MAX_RATES_SLOTS = 10


class StrategyInstance(models.Model):
    """One running copy of a framework strategy. Its primary key is the magic number."""

    instance_id = models.PositiveIntegerField(
        primary_key=True,
        validators=[MinValueValidator(1), MaxValueValidator(INT32_MAX)],
        help_text="Magic number: tags every order at the broker; 1..2147483647",
    )
    name = models.CharField(max_length=100)
    account = models.ForeignKey(BrokerAccount, on_delete=models.PROTECT, related_name="instances")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="instances")
    strategy_id = models.PositiveIntegerField(help_text="INTERNAL_STRATEGY_ID from the framework catalog")
    timeframe = models.PositiveIntegerField(choices=Timeframe.choices, default=Timeframe.H1)
    parameters = models.JSONField(default=dict, blank=True, help_text="Strategy parameters by name")
    rates_slots = models.JSONField(
        default=list,
        blank=True,
        help_text='Up to 10 slots: [{"symbol": "EURUSD", "timeframe": 60, "bars": 250}]; empty = catalog default',
    )
    risk_percent = models.DecimalField(
        max_digits=6,
        decimal_places=3,
        default=Decimal("1.0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="ACCOUNT_RISK_PERCENT; above 0 for our strategies (a foreign library also accepts 0)",
    )
    max_open_orders = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(0), MaxValueValidator(200)],
        help_text="MAX_OPEN_ORDERS; at least 1 for our strategies (a foreign library also accepts 0)",
    )
    max_spread = models.DecimalField(
        max_digits=20, decimal_places=10, default=Decimal("0"), help_text="Price units; 0 = no spread filter"
    )
    operational_mode = models.PositiveSmallIntegerField(choices=OperationalMode.choices, default=OperationalMode.ENABLE)
    enabled = models.BooleanField(default=True)
    # The (account, timeframe) bar-close entry that runs this instance with the others of that pair.
    periodic_task = models.ForeignKey(
        "django_celery_beat.PeriodicTask",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="strategy_instances",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["instance_id"]

    def __str__(self) -> str:
        return f"#{self.instance_id} {self.name}"

    def clean(self) -> None:
        from trading.services.instance_validation import instance_validate

        errors = instance_validate(
            strategy_id=self.strategy_id,
            timeframe=self.timeframe,
            parameters=self.parameters,
            rates_slots=self.rates_slots,
            max_spread=self.max_spread,
            risk_percent=self.risk_percent,
            max_open_orders=self.max_open_orders,
        )
        if errors:
            raise ValidationError(errors)

    def slot_list(self) -> list[dict[str, Any]]:
        return list(self.rates_slots or [])
