from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from trading.crypto import token_decrypt, token_encrypt, token_hint
from trading.models.currencies import ISO_CURRENCIES
from trading.models.enums import Broker, BrokerEnvironment
from trading.models.fields import money_field

CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


class BrokerAccount(models.Model):
    """A trading account at one broker. Balance fields hold the last known broker figures."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="broker_accounts")
    name = models.CharField(max_length=100)
    broker = models.CharField(max_length=16, choices=Broker.choices, default=Broker.PAPER)
    environment = models.CharField(max_length=16, choices=BrokerEnvironment.choices, default=BrokerEnvironment.PRACTICE)
    broker_account_id = models.CharField(
        max_length=64, blank=True, help_text="The broker's id, e.g. 101-004-1435156-001"
    )
    token_encrypted = models.TextField(blank=True, editable=False)
    token_hint = models.CharField(max_length=8, blank=True, editable=False)
    # Brokers with OAuth (cTrader): the refresh token that renews the access token above, and when that expires.
    refresh_token_encrypted = models.TextField(blank=True, editable=False)
    token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    currency = models.CharField(max_length=3, default="USD")
    fifo = models.BooleanField(default=False, help_text="FIFO / no hedging (US NFA accounts)")
    virtual_orders = models.BooleanField(
        null=True,
        blank=True,
        default=False,
        help_text="Virtual order mode: strategy orders are virtual, the broker holds one net position per "
        "instrument. Empty = automatic (on when the account is FIFO / no hedging).",
    )
    enabled = models.BooleanField(default=True)
    leverage = models.DecimalField(max_digits=8, decimal_places=2, default=50)
    balance = money_field()
    equity = money_field()
    margin_used = money_field()
    unrealized_pl = money_field()
    last_transaction_id = models.CharField(max_length=32, blank=True, editable=False)
    paper_processed_until = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Paper broker: bars up to this time have been simulated"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["broker", "environment", "broker_account_id"],
                condition=~models.Q(broker_account_id=""),
                name="unique_broker_account",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_broker_display()})"

    @property
    def queue_name(self) -> str:
        """The Celery queue this account's strategy runs are pinned to."""
        from trading.queues import account_queue

        return account_queue(self.pk)

    @property
    def virtual_mode(self) -> bool:
        """Whether strategy orders are virtual here (the flag, or the FIFO flag when left automatic)."""
        return self.fifo if self.virtual_orders is None else self.virtual_orders

    @property
    def has_token(self) -> bool:
        return bool(self.token_encrypted)

    def set_token(self, plain: str) -> None:
        self.token_encrypted = token_encrypt(plain)
        self.token_hint = token_hint(plain)

    def get_token(self) -> str:
        return token_decrypt(self.token_encrypted) if self.token_encrypted else ""

    def set_refresh_token(self, plain: str) -> None:
        self.refresh_token_encrypted = token_encrypt(plain) if plain else ""

    def get_refresh_token(self) -> str:
        return token_decrypt(self.refresh_token_encrypted) if self.refresh_token_encrypted else ""

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not CURRENCY_RE.match(self.currency or "") or self.currency not in ISO_CURRENCIES:
            errors["currency"] = f"{self.currency!r} is not an ISO 4217 currency code such as USD"
        from trading.venues import venue_class  # venues build on the models

        try:
            errors.update(venue_class(self.broker).account_field_errors(self))
        except ValueError as e:
            errors["broker"] = str(e)
        if self.leverage is not None and self.leverage <= 0:
            errors["leverage"] = f"leverage must be positive, was {self.leverage}"
        if errors:
            raise ValidationError(errors)


class AccountSnapshot(models.Model):
    """Balance, equity and margin at a point in time, for the equity chart."""

    account = models.ForeignKey(BrokerAccount, on_delete=models.CASCADE, related_name="snapshots")
    time = models.DateTimeField(db_index=True)
    balance = money_field()
    equity = money_field()
    margin_used = money_field()
    unrealized_pl = money_field()

    class Meta:
        ordering = ["account", "time"]
        indexes = [models.Index(fields=["account", "time"])]

    def __str__(self) -> str:
        return f"{self.account_id} @ {self.time:%Y-%m-%d %H:%M} equity {self.equity}"
