"""Watching virtual pending orders, stop losses and take profits: per paper bar and per OANDA price.

The paper broker's bar rules (brokers.paper.rules) decide triggers and fill prices; a live price is
treated as a bar of one price (open = high = low = bid, spread = ask − bid), so it fills at the current
bid/ask once a level is passed, as a market order would. Each trigger is claimed with a conditional
update (a pending order PENDING → FILLED, a trade OPEN → CLOSED) and leaves an Order row with a
deterministic client id, so a level hit seen twice (two bars, a sync and a price update) executes once.
All triggers of one pass make one netting order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction

from brokers.paper.rules import exit_price, pending_fill_price, trailing_stop
from trading.models import (
    BrokerAccount,
    CloseReason,
    Instrument,
    Order,
    OrderIntent,
    OrderStatus,
    Side,
    Trade,
    TradeState,
)
from trading.services.virtual.book import VirtualEvent, signed, virtual_pl, virtual_trade_close, virtual_trade_open
from trading.services.virtual.execute import netting_order_queue

_REASON = {"stop_loss": CloseReason.STOP_LOSS, "take_profit": CloseReason.TAKE_PROFIT}


@dataclass(frozen=True)
class PriceBar:
    """Bid prices of one bar (or one live price), and its spread."""

    time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    spread: Decimal

    @classmethod
    def from_quote(cls, *, bid: Decimal, ask: Decimal, time: datetime) -> PriceBar:
        return cls(time=time, open=bid, high=bid, low=bid, spread=ask - bid)


def _trigger_pending(order: Order, bar: PriceBar) -> tuple[VirtualEvent, int] | None:
    assert order.price is not None
    price = pending_fill_price(
        buy=order.side == Side.BUY,
        stop=order.order_type == "stop",
        level=order.price,
        open_=bar.open,
        high=bar.high,
        low=bar.low,
        spread=bar.spread,
    )
    if price is None:
        return None
    if (
        Order.objects.filter(pk=order.pk, status=OrderStatus.PENDING, virtual=True).update(
            status=OrderStatus.FILLED, fill_price=price, filled_at=bar.time
        )
        != 1
    ):
        return None
    trade = virtual_trade_open(
        order_id=order.pk,
        account=order.account,
        instrument=order.instrument,
        instance_id=order.instance_id,
        side=order.side,
        units=order.units,
        price=price,
        time=bar.time,
        stop_loss=order.stop_loss,
        take_profit=order.take_profit,
        trailing_distance=order.trailing_distance,
    )
    Order.objects.filter(pk=order.pk).update(trade=trade)
    return VirtualEvent(order.pk, signed(order.side, order.units), price), trade.pk


def _exit(trade: Trade, bar: PriceBar) -> VirtualEvent | None:
    hit = exit_price(
        buy=trade.side == Side.BUY,
        stop_loss=trade.stop_loss,
        take_profit=trade.take_profit,
        open_=bar.open,
        high=bar.high,
        low=bar.low,
        spread=bar.spread,
    )
    if hit is None:
        _trail(trade, bar)
        return None
    price, kind = hit
    reason = CloseReason.TRAILING_STOP if kind == "stop_loss" and trade.trailing_distance else _REASON[kind]
    units = trade.current_units
    with transaction.atomic():
        if not virtual_trade_close(trade, price=price, time=bar.time, reason=reason):
            return None  # closed meanwhile (by the strategy, a person, or another watcher)
        try:
            with transaction.atomic():
                order = Order.objects.create(
                    client_order_id=f"vx{trade.pk}",
                    account=trade.account,
                    instance_id=trade.instance_id,
                    instrument=trade.instrument,
                    intent=OrderIntent.CLOSE,
                    order_type="market",
                    side=Side.SELL if trade.side == Side.BUY else Side.BUY,
                    units=units,
                    trade=trade,
                    status=OrderStatus.DONE,
                    virtual=True,
                    fill_price=price,
                    filled_at=bar.time,
                    reject_reason=reason,
                )
        except IntegrityError:
            return None
    return VirtualEvent(order.pk, -signed(trade.side, units), price)


def _trail(trade: Trade, bar: PriceBar) -> None:
    if not trade.trailing_distance:
        return
    moved = trailing_stop(
        buy=trade.side == Side.BUY,
        stop_loss=trade.stop_loss,
        distance=trade.trailing_distance,
        high=bar.high,
        low=bar.low,
        spread=bar.spread,
    )
    if moved is not None:
        Trade.objects.filter(pk=trade.pk, state=TradeState.OPEN).update(stop_loss=moved)


@transaction.atomic
def virtual_watch(*, account: BrokerAccount, instrument: Instrument, bar: PriceBar) -> Order | None:
    """Execute the virtual pending orders and exits ``bar`` reaches; returns the netting order, if any."""
    events: list[VirtualEvent] = []
    opened_now: set[int] = set()
    pending = (
        Order.objects.filter(account=account, instrument=instrument, virtual=True, status=OrderStatus.PENDING)
        .select_related("account", "instrument")
        .order_by("pk")
    )
    for order in pending:
        if order.expires_at is not None and order.expires_at <= bar.time:
            Order.objects.filter(pk=order.pk, status=OrderStatus.PENDING).update(
                status=OrderStatus.EXPIRED, reject_reason="expired (GTD)"
            )
            continue
        triggered = _trigger_pending(order, bar)
        if triggered is not None:
            events.append(triggered[0])
            opened_now.add(triggered[1])
    trades = (
        Trade.objects.filter(
            account=account, instrument=instrument, virtual=True, state=TradeState.OPEN, open_time__lte=bar.time
        )
        .exclude(pk__in=opened_now)
        .select_related("account", "instrument")
        .order_by("pk")
    )
    for trade in trades:
        event = _exit(trade, bar)
        if event is not None:
            events.append(event)
    return netting_order_queue(account=account, instrument=instrument, events=events, time=bar.time)


def virtual_revalue(*, account: BrokerAccount, instrument: Instrument, bid: Decimal, ask: Decimal) -> None:
    """Store each open virtual trade's unrealised P/L at this price (display only: not in account totals)."""
    for trade in Trade.objects.filter(account=account, instrument=instrument, virtual=True, state=TradeState.OPEN):
        mark = bid if trade.side == Side.BUY else ask
        Trade.objects.filter(pk=trade.pk, state=TradeState.OPEN).update(
            unrealized_pl=virtual_pl(
                account,
                instrument,
                side=trade.side,
                units=trade.current_units,
                open_price=trade.open_price,
                close_price=mark,
            )
        )


def virtual_watch_prices(account: BrokerAccount) -> dict[str, str]:
    """Remote brokers: check each instrument with virtual work at its current price, then send the netting.

    Called after every account sync. Runs outside any transaction, so each netting order is committed
    before dispatch sends it (the lost-answer machinery relies on that). Returns symbol → what happened.
    """
    from trading.services.orders.dispatch import orders_dispatch
    from trading.services.virtual.book import virtual_quote

    ids = set(
        Trade.objects.filter(account=account, virtual=True, state=TradeState.OPEN).values_list(
            "instrument_id", flat=True
        )
    )
    ids |= set(
        Order.objects.filter(account=account, virtual=True, status=OrderStatus.PENDING).values_list(
            "instrument_id", flat=True
        )
    )
    outcome: dict[str, str] = {}
    for instrument in Instrument.objects.filter(pk__in=ids).order_by("symbol"):
        quote = virtual_quote(account, instrument)
        netting = virtual_watch(
            account=account,
            instrument=instrument,
            bar=PriceBar.from_quote(bid=quote.bid, ask=quote.ask, time=quote.time),
        )
        virtual_revalue(account=account, instrument=instrument, bid=quote.bid, ask=quote.ask)
        if netting is not None:
            orders_dispatch(account_id=account.pk, instrument_id=instrument.pk)
            outcome[instrument.symbol] = f"netting order {netting.client_order_id}"
        else:
            outcome[instrument.symbol] = "nothing triggered"
    return outcome
