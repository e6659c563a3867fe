"""Complete trade history from OANDA: account state plus every transaction since the last one seen."""

from __future__ import annotations

import logging

from django.db import transaction

from brokers.base import BrokerEvent, OrderResult
from trading.models import BrokerAccount, CloseReason, Instrument, Order, OrderStatus, Trade
from trading.services.broker_clients import broker_for
from trading.services.orders.record import fill_record, order_record_result

logger = logging.getLogger(__name__)

CLOSE_REASONS = {
    "STOP_LOSS_ORDER": CloseReason.STOP_LOSS,
    "GUARANTEED_STOP_LOSS_ORDER": CloseReason.STOP_LOSS,
    "TAKE_PROFIT_ORDER": CloseReason.TAKE_PROFIT,
    "TRAILING_STOP_LOSS_ORDER": CloseReason.TRAILING_STOP,
    "MARKET_ORDER_MARGIN_CLOSEOUT": CloseReason.MARGIN_CLOSEOUT,
    "MARKET_ORDER_DELAYED_TRADE_CLOSE": CloseReason.BROKER,
    "MARKET_ORDER_POSITION_CLOSEOUT": CloseReason.MANUAL,
    "MARKET_ORDER_TRADE_CLOSE": CloseReason.MANUAL,
}


def _record_event(account: BrokerAccount, event: BrokerEvent) -> None:
    ours = (
        Order.objects.filter(account=account, client_order_id=event.client_order_id).first()
        if event.client_order_id
        else None
    )
    if event.fill is not None:
        if ours is not None and ours.status in (OrderStatus.SUBMITTING, OrderStatus.UNKNOWN, OrderStatus.PENDING):
            order_record_result(ours, OrderResult(status="filled", client_order_id=ours.client_order_id,
                                                  broker_order_id=event.order_id, fill=event.fill))
            return
        if ours is not None:
            return  # already recorded from the order's own response
        instrument = Instrument.objects.filter(symbol=event.symbol).first()
        if instrument is None:
            logger.warning("OANDA fill %s for unknown instrument %s not recorded", event.transaction_id, event.symbol)
            return
        fill_record(account=account, instrument=instrument, fill=event.fill, instance_id=None, order=None,
                    close_reason=CLOSE_REASONS.get(event.reason, CloseReason.BROKER))
    elif event.type == "ORDER_CANCEL" and ours is not None and ours.status == OrderStatus.PENDING:
        status = OrderStatus.EXPIRED if event.reason == "TIME_IN_FORCE_EXPIRED" else OrderStatus.CANCELLED
        Order.objects.filter(pk=ours.pk).update(status=status, reject_reason=event.reason[:200])


def oanda_account_sync(account: BrokerAccount) -> int:
    """Read state and new transactions; returns how many transactions were applied."""
    client = broker_for(account)
    state = client.get_account_state()
    with transaction.atomic():
        locked = BrokerAccount.objects.select_for_update().get(pk=account.pk)
        applied = 0
        last_id = int(state.last_transaction_id or 0)
        if locked.last_transaction_id:
            for event in client.list_events_since(locked.last_transaction_id):
                _record_event(locked, event)
                applied += 1
                last_id = max(last_id, int(event.transaction_id))
        BrokerAccount.objects.filter(pk=account.pk).update(
            balance=state.balance, equity=state.equity, margin_used=state.margin_used,
            unrealized_pl=state.unrealized_pl, last_transaction_id=str(last_id),
        )
    return applied


def open_trade_ids(account: BrokerAccount) -> set[str]:
    return set(Trade.objects.filter(account=account, state="open").values_list("broker_trade_id", flat=True))
