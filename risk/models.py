"""Guard-rail limits, kill switches, blocked signals, market-hours policies and the audit log.

Every rule is defined in risk/README.md; a limit left empty is off.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Value
from django.db.models.functions import Coalesce

from trading.models import BrokerAccount, Execution, Order, StrategyInstance
from trading.models.fields import money_field


class DrawdownAction(models.TextChoices):
    STOP_ENTRIES = "stop_entries", "Stop new entries"
    CLOSE_ALL = "close_all", "Close everything (and stop new entries)"


def _ratio_field(help_text: str) -> models.DecimalField:
    return models.DecimalField(
        max_digits=12,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=help_text,
    )


class RiskLimit(models.Model):
    """Guard rails for one account (instance empty) or one instance of it. Empty fields are off."""

    account = models.ForeignKey(BrokerAccount, on_delete=models.CASCADE, related_name="risk_limits")
    instance = models.ForeignKey(
        StrategyInstance,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="risk_limits",
        help_text="Empty: the limit covers the whole account",
    )
    max_drawdown_pct = models.DecimalField(
        max_digits=6,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Percent below the equity high-water mark (open P/L included)",
    )
    drawdown_action = models.CharField(
        max_length=16, choices=DrawdownAction.choices, default=DrawdownAction.STOP_ENTRIES
    )
    daily_loss_limit = money_field(
        null=True, blank=True, default=None, help_text="Account currency, per FX day (from 17:00 New York)"
    )
    max_open_trades = models.PositiveIntegerField(null=True, blank=True)
    max_order_equity_ratio = _ratio_field("Fat-finger guard: order notional / equity, e.g. 5 = five times equity")
    max_currency_exposure_ratio = _ratio_field("Per currency: |net signed notional| / equity")
    max_spread_points = models.PositiveIntegerField(null=True, blank=True, help_text="ask - bid in points")
    peak_equity = money_field(
        null=True,
        blank=True,
        default=None,
        help_text="High-water mark: account equity, or the instance's net P/L for an instance limit",
    )
    peak_since = models.DateTimeField(
        null=True, blank=True, help_text="Snapshots before this time are ignored (set when the peak is reset)"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account", "instance"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=models.Q(instance__isnull=True), name="risk_one_account_limit"
            ),
            models.UniqueConstraint(
                fields=["instance"], condition=models.Q(instance__isnull=False), name="risk_one_instance_limit"
            ),
        ]

    def __str__(self) -> str:
        return f"limits #{self.instance_id}" if self.instance_id else f"limits {self.account}"

    def clean(self) -> None:
        if self.instance is not None and self.account_id and self.instance.account_id != self.account_id:
            raise ValidationError({"instance": f"instance #{self.instance_id} belongs to another account"})


class KillSwitch(models.Model):
    """Stops every opening order of one account, or of all accounts (account empty)."""

    account = models.OneToOneField(
        BrokerAccount,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="kill_switch",
        help_text="Empty: the global switch",
    )
    engaged = models.BooleanField(default=False)
    flatten = models.BooleanField(default=False, help_text="Closed every trade when engaged")
    reason = models.CharField(max_length=200, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["account"]
        constraints = [
            # One row per scope; the global row has no account, so NULL is folded to 0 for the check.
            models.UniqueConstraint(Coalesce("account", Value(0)), name="risk_one_switch_per_scope")
        ]

    def __str__(self) -> str:
        scope = str(self.account) if self.account_id else "global"
        return f"kill switch {scope}: {'ENGAGED' if self.engaged else 'off'}"


class BlockRule(models.TextChoices):
    KILL_SWITCH = "kill_switch", "Kill switch"
    MAX_DRAWDOWN = "max_drawdown", "Maximum drawdown"
    DAILY_LOSS = "daily_loss", "Daily loss limit"
    MAX_OPEN_TRADES = "max_open_trades", "Maximum open trades"
    FAT_FINGER = "fat_finger", "Order size vs equity"
    CURRENCY_EXPOSURE = "currency_exposure", "Currency exposure cap"
    SPREAD = "spread", "Spread filter"
    MARKET_CLOSED = "market_closed", "Market closed"


class BlockOutcome(models.TextChoices):
    DROPPED = "dropped", "Dropped"
    QUEUED = "queued", "Queued until the market opens"
    RELEASED = "released", "Queued, then sent at the open"


class BlockedSignal(models.Model):
    """A signal or order a guard rail, the kill switch or the market clock stopped, with the values."""

    account = models.ForeignKey(BrokerAccount, on_delete=models.CASCADE, related_name="blocked_signals")
    instance = models.ForeignKey(
        StrategyInstance, on_delete=models.SET_NULL, null=True, blank=True, related_name="blocked_signals"
    )
    execution = models.ForeignKey(
        Execution, on_delete=models.SET_NULL, null=True, blank=True, related_name="blocked_signals"
    )
    order = models.ForeignKey(
        Order,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="blocks",
        help_text="Set when the order already existed (checks at dispatch)",
    )
    rule = models.CharField(max_length=20, choices=BlockRule.choices)
    outcome = models.CharField(max_length=10, choices=BlockOutcome.choices, default=BlockOutcome.DROPPED)
    intent = models.JSONField(default=dict, help_text="What was asked: kind, side, units, price, SL/TP")
    values = models.JSONField(default=dict, help_text="The figures that tripped the rule, and the limit")
    created_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-created_at"]),
            models.Index(fields=["outcome"], condition=models.Q(outcome="queued"), name="risk_queued_blocks"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} {self.outcome} #{self.instance_id or '-'} {self.created_at:%Y-%m-%d %H:%M}"


class ClosedMarketAction(models.TextChoices):
    DROP = "drop", "Drop the order"
    QUEUE = "queue", "Queue it until the market opens"


class MarketHoursPolicy(models.Model):
    """What happens to an order while its market is closed. Accounts without a row use the defaults."""

    account = models.OneToOneField(BrokerAccount, on_delete=models.CASCADE, related_name="market_hours")
    when_closed = models.CharField(max_length=8, choices=ClosedMarketAction.choices, default=ClosedMarketAction.QUEUE)
    oanda_daily_break = models.BooleanField(
        default=True, help_text="Treat 16:59-17:05 New York as closed (OANDA's daily maintenance)"
    )

    class Meta:
        verbose_name_plural = "market hours policies"

    def __str__(self) -> str:
        return f"{self.account}: {self.when_closed} while closed"


class AuditAction(models.TextChoices):
    TRADE_CLOSE = "trade_close", "Close trade"
    TRADE_MODIFY = "trade_modify", "Modify trade SL/TP"
    ACCOUNT_CLOSE_ALL = "account_close_all", "Close all of an account"
    INSTANCE_DELETE = "instance_delete", "Delete instance"
    INSTANCE_CLOSE_ALL = "instance_close_all", "Close all of an instance"
    INSTANCE_PAUSE = "instance_pause", "Pause instance"
    INSTANCE_ENABLE = "instance_enable", "Enable instance"
    INSTANCE_DISABLE = "instance_disable", "Disable instance"
    INSTANCE_RUN_NOW = "instance_run_now", "Run instance now"
    KILL_SWITCH_ENGAGE = "kill_switch_engage", "Engage kill switch"
    KILL_SWITCH_RELEASE = "kill_switch_release", "Release kill switch"
    LIMIT_CHANGE = "limit_change", "Change guard rails"
    PEAK_RESET = "peak_reset", "Reset drawdown high-water mark"
    DRAWDOWN_CLOSE_ALL = "drawdown_close_all", "Drawdown limit closed everything"
    MARKET_HOURS_CHANGE = "market_hours_change", "Change market-hours policy"
    ACCOUNT_SHARE = "account_share", "Share account"
    ACCOUNT_UNSHARE = "account_unshare", "Stop sharing account"


class AuditLogEntry(models.Model):
    """Who did what to which object, and when. Written by the services; never edited."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: done by the platform itself",
    )
    username = models.CharField(max_length=150, blank=True, help_text="Kept if the user is deleted")
    time = models.DateTimeField(db_index=True)
    action = models.CharField(max_length=24, choices=AuditAction.choices)
    source = models.CharField(max_length=16, help_text="admin, api, dashboard or system")
    account = models.ForeignKey(BrokerAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-time", "-id"]
        verbose_name_plural = "audit log entries"

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.username or 'system'} {self.action} {self.object_repr}"


class InstanceControl(StrategyInstance):
    """Proxy of StrategyInstance for the admin's manual actions (close all, pause, resume)."""

    class Meta:
        proxy = True
        verbose_name = "instance control"
