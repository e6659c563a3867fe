from __future__ import annotations

from decimal import Decimal

from django.db import models

from trading.models.enums import Timeframe
from trading.models.instruments import Instrument


class Bar(models.Model):
    """One OHLC bar. Prices are integer points of the instrument (exact, and fast to load into numpy).

    ``time`` is the bar's OPEN time in UTC. Only ``complete`` bars are given to strategies.
    """

    # The natural key is the primary key: one index, which serves every lookup and every upsert. A surrogate
    # ``id`` would add a sequence and a second index that no query reads, a third of the cost of a bulk import.
    pk = models.CompositePrimaryKey("instrument", "timeframe", "time")
    # No database-level foreign-key constraint or separate index: a deferred FK check per row was most of the
    # cost of a bulk import. Deleting an instrument still cascades through the ORM.
    instrument = models.ForeignKey(
        Instrument, on_delete=models.CASCADE, related_name="bars", db_index=False, db_constraint=False
    )
    timeframe = models.PositiveIntegerField(choices=Timeframe.choices)
    time = models.DateTimeField()
    open = models.BigIntegerField()
    high = models.BigIntegerField()
    low = models.BigIntegerField()
    close = models.BigIntegerField()
    volume = models.BigIntegerField(default=0)
    spread = models.IntegerField(null=True, blank=True, help_text="Spread in points, when the data has it")
    complete = models.BooleanField(default=True)

    class Meta:
        ordering = ["instrument", "timeframe", "time"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(high__gte=models.F("low"))
                & models.Q(high__gte=models.F("open"))
                & models.Q(high__gte=models.F("close"))
                & models.Q(low__lte=models.F("open"))
                & models.Q(low__lte=models.F("close"))
                & models.Q(low__gt=0),
                name="bar_ohlc_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.timeframe}m {self.time:%Y-%m-%d %H:%M}"

    def price(self, field: str) -> Decimal:
        return Decimal(getattr(self, field)).scaleb(-self.instrument.digits)
