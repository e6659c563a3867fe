from __future__ import annotations

from django.db import models

from trading.models.accounts import BrokerAccount
from trading.models.enums import CloseReason, OrderIntent, OrderStatus, OrderType, Side, TradeState
from trading.models.fields import money_field, price_field, units_field
from trading.models.instances import StrategyInstance
from trading.models.instruments import Instrument

# Framework tickets are int32 and shared by open trades and pending orders (as in MetaTrader):
# a trade's ticket is its id, a pending order's ticket is PENDING_TICKET_OFFSET + its id.
PENDING_TICKET_OFFSET = 1_000_000_000


class Order(models.Model):
    """A request to the broker: open (market or pending), close, modify or cancel.

    ``client_order_id`` is derived from (instance, bar, signal row, intent), so a re-run of the same
    bar produces the same id and the unique constraint stops a second order.
    """

    client_order_id = models.CharField(max_length=64, unique=True)
    account = models.ForeignKey(BrokerAccount, on_delete=models.PROTECT, related_name="orders")
    instance = models.ForeignKey(
        StrategyInstance, on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="orders")
    execution = models.ForeignKey(
        "trading.Execution", on_delete=models.SET_NULL, null=True, blank=True, related_name="orders"
    )
    intent = models.CharField(max_length=8, choices=OrderIntent.choices, default=OrderIntent.OPEN)
    order_type = models.CharField(max_length=8, choices=OrderType.choices, default=OrderType.MARKET)
    side = models.CharField(max_length=4, choices=Side.choices)
    units = units_field(default=0)
    price = price_field(
        null=True, blank=True, help_text="Entry price of a pending order; reference price of a market order"
    )
    stop_loss = price_field(null=True, blank=True)
    take_profit = price_field(null=True, blank=True)
    trailing_distance = price_field(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    trade = models.ForeignKey(
        "trading.Trade",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
        help_text="The trade a close/modify targets, or the trade this order opened",
    )
    target = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The pending order a cancel targets",
    )
    status = models.CharField(max_length=12, choices=OrderStatus.choices, default=OrderStatus.NEW)
    # Virtual order mode (trading/services/virtual/README.md): a virtual order is executed by the platform
    # against the virtual book and never sent; a netting order (no instance) is the real market order that
    # moves the broker's net position by the change of the virtual orders it serves.
    virtual = models.BooleanField(default=False)
    netting = models.BooleanField(default=False)
    netting_order = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="served",
        help_text="Virtual orders: the netting order that moved the broker position for this one",
    )
    broker_order_id = models.CharField(max_length=64, blank=True)
    reject_reason = models.CharField(max_length=200, blank=True)
    fill_price = price_field(null=True, blank=True)
    filled_at = models.DateTimeField(null=True, blank=True)
    bar_time = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "instrument", "status"]),
            models.Index(fields=["instance", "status"]),
            # The sweeper's scan of orders not yet settled (unsent, in flight, answer lost): a small partial index.
            models.Index(
                fields=["created_at"],
                name="order_in_flight_created",
                condition=models.Q(status__in=["new", "submitting", "unknown"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_order_id} {self.intent} {self.side} {self.units} ({self.status})"

    @property
    def ticket(self) -> int:
        return PENDING_TICKET_OFFSET + int(self.pk)


class Trade(models.Model):
    """A filled position, open or closed. ``instance`` is empty for trades opened outside the platform."""

    account = models.ForeignKey(BrokerAccount, on_delete=models.PROTECT, related_name="trades")
    instance = models.ForeignKey(
        StrategyInstance, on_delete=models.PROTECT, null=True, blank=True, related_name="trades"
    )
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="trades")
    broker_trade_id = models.CharField(max_length=64, blank=True)
    side = models.CharField(max_length=4, choices=Side.choices)
    initial_units = units_field()
    current_units = units_field()
    open_time = models.DateTimeField()
    open_price = price_field()
    close_time = models.DateTimeField(null=True, blank=True)
    close_price = price_field(null=True, blank=True)
    stop_loss = price_field(null=True, blank=True)
    take_profit = price_field(null=True, blank=True)
    trailing_distance = price_field(null=True, blank=True)
    realized_pl = money_field()
    unrealized_pl = money_field()
    financing = money_field(help_text="Swap / financing, account currency")
    commission = money_field()
    margin_used = money_field()
    state = models.CharField(max_length=8, choices=TradeState.choices, default=TradeState.OPEN)
    # Virtual order mode: a virtual trade exists only in the database (broker_trade_id "V<id>"); a netting
    # trade is a real broker trade that makes up the account's net position (no instance).
    virtual = models.BooleanField(default=False)
    netting = models.BooleanField(default=False)
    close_reason = models.CharField(max_length=16, choices=CloseReason.choices, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-open_time", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "broker_trade_id"],
                condition=~models.Q(broker_trade_id=""),
                name="unique_broker_trade",
            )
        ]
        indexes = [
            models.Index(fields=["instance", "state"]),
            models.Index(fields=["account", "state"]),
            # The trade history and statement of one account, newest close first (100,000 trades an account).
            models.Index(fields=["account", "state", "close_time"], name="trade_account_closed"),
        ]

    def __str__(self) -> str:
        return f"trade {self.pk} {self.side} {self.current_units} {self.instrument_id} ({self.state})"

    @property
    def ticket(self) -> int:
        return int(self.pk)

    @property
    def is_open(self) -> bool:
        return self.state == TradeState.OPEN
