"""Reconciliation: differences between the broker and the database, and how each was resolved.

A difference is only reported: nothing changes until a user picks an action (adopt, close, ignore).
``OrderSubmission`` remembers the broker's last transaction id before an order was sent, so a lost
answer can be looked up in the transactions that followed it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from trading.models.accounts import BrokerAccount
from trading.models.fields import price_field, units_field
from trading.models.instances import StrategyInstance
from trading.models.orders import Order, Trade


class DiscrepancyKind(models.TextChoices):
    TRADE_ONLY_AT_BROKER = "trade_broker_only", "Trade open at the broker, not in the database"
    TRADE_ONLY_IN_DB = "trade_db_only", "Trade open in the database, not at the broker"
    TRADE_UNITS = "trade_units", "Trade units differ"
    ORDER_ONLY_AT_BROKER = "order_broker_only", "Pending order at the broker, not in the database"
    ORDER_ONLY_IN_DB = "order_db_only", "Pending order in the database, not at the broker"


class DiscrepancyStatus(models.TextChoices):
    OPEN = "open", "Open"
    ADOPTED = "adopted", "Adopted the broker's version"
    CLOSED = "closed", "Closed"
    IGNORED = "ignored", "Ignored"
    GONE = "gone", "No longer differs"


class DiscrepancyAction(models.TextChoices):
    ADOPT = "adopt", "Adopt the broker's version"
    CLOSE = "close", "Close it"
    IGNORE = "ignore", "Ignore"


class Discrepancy(models.Model):
    """One difference found by a reconciliation run, open until a user acts on it."""

    account = models.ForeignKey(BrokerAccount, on_delete=models.CASCADE, related_name="discrepancies")
    instance = models.ForeignKey(StrategyInstance, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=20, choices=DiscrepancyKind.choices)
    status = models.CharField(max_length=10, choices=DiscrepancyStatus.choices, default=DiscrepancyStatus.OPEN)
    symbol = models.CharField(max_length=20, blank=True)
    broker_trade_id = models.CharField(max_length=64, blank=True)
    broker_order_id = models.CharField(max_length=64, blank=True)
    trade = models.ForeignKey(Trade, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    side = models.CharField(max_length=4, blank=True)
    broker_units = units_field(null=True, blank=True)
    db_units = units_field(null=True, blank=True)
    broker_price = price_field(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    found_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolution = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-found_at", "-id"]
        indexes = [models.Index(fields=["account", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "kind", "broker_trade_id", "broker_order_id"],
                condition=models.Q(status="open"),
                name="one_open_discrepancy_per_subject",
            )
        ]
        verbose_name_plural = "discrepancies"

    def __str__(self) -> str:
        subject = self.broker_trade_id or self.broker_order_id or "-"
        return f"{self.get_kind_display()} {subject} ({self.status})"


class OrderSubmission(models.Model):
    """The broker's last transaction id before an order went out (where to look after a lost answer)."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="submission")
    since_transaction_id = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    lookups = models.PositiveIntegerField(default=0)
    last_lookup_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"order {self.order_id} sent after transaction {self.since_transaction_id or '?'}"
