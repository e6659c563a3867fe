"""Turning broker answers (fills, closes, cancels) into Order and Trade rows.

Every broker path (the paper broker, OANDA responses, OANDA history sync) records through these
functions, so a fill is written the same way wherever it came from.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from brokers.base import Fill, OrderResult, TradeClose
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

_STATUS_BY_RESULT = {
    "pending": OrderStatus.PENDING,
    "cancelled": OrderStatus.CANCELLED,
    "rejected": OrderStatus.REJECTED,
}


# What recording a result writes to the order row (updated_at: auto_now, refreshed by save()).
_RESULT_FIELDS = ["status", "broker_order_id", "reject_reason", "fill_price", "filled_at", "trade", "updated_at"]


@transaction.atomic
def order_record_result(order: Order, result: OrderResult) -> None:
    """Store what the broker said about ``order``; idempotent for a result already recorded."""
    order = Order.objects.select_for_update().select_related("account", "instrument").get(pk=order.pk)
    _record(order, result, first_fill=order.status != OrderStatus.FILLED)


def order_record_claimed(order: Order, result: OrderResult) -> None:
    """``order_record_result`` for a caller that claimed ``order`` (NEW → SUBMITTING) in the current transaction.

    The claim's UPDATE holds the row lock and the row cannot have been filled, so the row is not read again;
    ``order.account`` and ``order.instrument`` must be loaded. The same columns are written either way.
    """
    if order.netting:  # the netting attribution wants the stored row
        order_record_result(order, result)
        return
    order.status = OrderStatus.SUBMITTING
    _record(order, result, first_fill=True)


def orders_record_claimed_opens(answered: list[tuple[Order, OrderResult]]) -> None:
    """``order_record_claimed`` for many claimed orders at once, whose answers at most open a trade each (market
    entries on the paper broker): the new trades in one INSERT, the orders in one UPDATE, the same columns and
    values as recording each on its own. Anything else (a close, a balance, a netting order) is refused."""
    for order, result in answered:
        fill = result.fill
        if order.netting or (
            fill is not None
            and (fill.trades_closed or fill.trade_reduced is not None or fill.account_balance is not None)
        ):
            raise ValueError(f"order {order.pk}: only answers that open trades are recorded together")
    opening = [
        (order, result.fill, result.fill.trade_opened)
        for order, result in answered
        if result.fill is not None and result.fill.trade_opened
    ]
    trades: dict[tuple[int, str], Trade] = {}
    if opening:
        accounts = {order.account_id for order, _, _ in opening}
        ids = [trade_id for _, _, trade_id in opening]
        for trade in Trade.objects.filter(account_id__in=accounts, broker_trade_id__in=ids):
            trades[(trade.account_id, trade.broker_trade_id)] = trade
    created: list[Trade] = []
    for order, fill, trade_id in opening:
        if (order.account_id, trade_id) not in trades:  # a trade already recorded for this fill is not opened again
            trade = _trade_opened(order.account, order.instrument, fill, trade_id, order.instance_id, order)
            trades[(order.account_id, trade_id)] = trade
            created.append(trade)
    Trade.objects.bulk_create(created)
    now = timezone.now()
    for order, _, trade_id in opening:
        order.trade = trades[(order.account_id, trade_id)]
    for order, result in answered:
        _result_fields(order, result)
        order.updated_at = now  # auto_now: bulk_update does not set it
    Order.objects.bulk_update([order for order, _ in answered], _RESULT_FIELDS)


def _result_fields(order: Order, result: OrderResult) -> None:
    if result.status == "filled":
        order.status = OrderStatus.FILLED if order.intent == OrderIntent.OPEN else OrderStatus.DONE
    else:
        order.status = _STATUS_BY_RESULT[result.status]
    order.broker_order_id = result.broker_order_id or order.broker_order_id
    order.reject_reason = result.reason[:200]
    if result.fill is not None:
        order.fill_price = result.fill.price
        order.filled_at = result.fill.time


def _record(order: Order, result: OrderResult, *, first_fill: bool) -> None:
    _result_fields(order, result)
    if result.fill is not None:
        trade = fill_record(
            account=order.account,
            instrument=order.instrument,
            fill=result.fill,
            instance_id=order.instance_id,
            # A close the strategy asked for comes from a run; anything else was a person (or a risk rule).
            order=order,
            close_reason=CloseReason.STRATEGY if order.execution_id else CloseReason.MANUAL,
        )
        if trade is not None:
            order.trade = trade
    order.save(update_fields=_RESULT_FIELDS)
    if order.netting and result.fill is not None and first_fill:
        # Virtual mode: the real fill's price and costs go to the virtual orders it served.
        from trading.services.virtual.netting import netting_fill_attribute

        netting_fill_attribute(order, result.fill)


def fill_record(
    *,
    account: BrokerAccount,
    instrument: Instrument,
    fill: Fill,
    instance_id: int | None,
    order: Order | None,
    close_reason: str,
) -> Trade | None:
    """Apply one fill: open a trade, close or reduce others, move the balance. Returns the opened trade."""
    opened = None
    for close in fill.trades_closed:
        _trade_close(account, close, time=fill.time, reason=close_reason, full=True)
    if fill.trade_reduced is not None:
        _trade_close(account, fill.trade_reduced, time=fill.time, reason=close_reason, full=False)
    if fill.trade_opened:
        existing = Trade.objects.filter(account=account, broker_trade_id=fill.trade_opened).first()
        if existing is not None:
            opened = existing
        else:
            opened = _trade_opened(account, instrument, fill, fill.trade_opened, instance_id, order)
            opened.save(force_insert=True)
    if fill.account_balance is not None:
        BrokerAccount.objects.filter(pk=account.pk).update(balance=fill.account_balance)
        account.balance = fill.account_balance
    return opened


def _trade_opened(
    account: BrokerAccount,
    instrument: Instrument,
    fill: Fill,
    trade_id: str,
    instance_id: int | None,
    order: Order | None,
) -> Trade:
    """The (unsaved) trade a fill opens."""
    units = abs(fill.units_opened or fill.units)
    return Trade(
        account=account,
        instance_id=instance_id,
        instrument=instrument,
        broker_trade_id=trade_id,
        side=Side.BUY if fill.units > 0 else Side.SELL,
        initial_units=units,
        current_units=units,
        open_time=fill.time,
        open_price=fill.price,
        stop_loss=order.stop_loss if order else None,
        take_profit=order.take_profit if order else None,
        trailing_distance=order.trailing_distance if order else None,
        commission=fill.commission,
        financing=fill.financing,
    )


def _trade_close(account: BrokerAccount, close: TradeClose, *, time: datetime, reason: str, full: bool) -> None:
    trade = Trade.objects.select_for_update().filter(account=account, broker_trade_id=close.broker_trade_id).first()
    if trade is None or trade.state == TradeState.CLOSED:
        return
    remaining = trade.current_units - close.units
    fully_closed = full or remaining <= 0
    Trade.objects.filter(pk=trade.pk).update(
        current_units=Decimal(0) if fully_closed else remaining,
        realized_pl=F("realized_pl") + close.realized_pl,
        financing=F("financing") + close.financing,
        commission=F("commission") + close.commission,
        unrealized_pl=Decimal(0) if fully_closed else F("unrealized_pl"),
        state=TradeState.CLOSED if fully_closed else TradeState.OPEN,
        close_time=time if fully_closed else None,
        close_price=close.price,
        close_reason=reason if fully_closed else "",
    )
