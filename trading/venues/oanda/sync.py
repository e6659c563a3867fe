"""Complete trade history from OANDA: account state plus every transaction since the last one seen.

Runs at every strategy run and from a periodic task. Each transaction is applied once: the account row
is locked, the events after ``last_transaction_id`` are recorded through ``orders.record`` (fills open,
reduce and close trades with their reason, realised P/L, financing and commission), and the new id is
stored in the same database transaction. Then the open trades' broker figures (units, SL/TP, unrealised
P/L) are refreshed. Differences that history does not explain are left to reconciliation: the sync
never closes or creates a trade that no transaction accounts for.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from brokers.base import BrokerEvent, OrderResult
from trading.models import (
    BrokerAccount,
    CloseReason,
    Instrument,
    Order,
    OrderIntent,
    OrderStatus,
    Trade,
    TradeState,
)
from trading.services.orders.record import fill_record, order_record_result
from trading.venues.oanda.client import oanda_client
from trading.venues.oanda.financing import financing_record

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
    # An opposite entry order on a netting (FIFO) account closes the oldest trades first.
    "MARKET_ORDER": CloseReason.FIFO,
    "LIMIT_ORDER": CloseReason.FIFO,
    "STOP_ORDER": CloseReason.FIFO,
    "MARKET_IF_TOUCHED_ORDER": CloseReason.FIFO,
}
_UNRESOLVED = (OrderStatus.SUBMITTING, OrderStatus.UNKNOWN, OrderStatus.PENDING)
_REJECT_SUFFIX = "_ORDER_REJECT"


@dataclass(frozen=True)
class SyncReport:
    applied: int
    last_transaction_id: str
    open_trades_broker: int
    open_trades_db: int


def _our_order(account: BrokerAccount, event: BrokerEvent) -> Order | None:
    match = Q()
    if event.client_order_id:
        match |= Q(client_order_id=event.client_order_id)
    if event.order_id:
        match |= Q(broker_order_id=event.order_id)
    if not match:
        return None
    return Order.objects.filter(match, account=account).select_related("trade").first()


def _record_event(account: BrokerAccount, event: BrokerEvent) -> None:
    if event.type == "DAILY_FINANCING":
        financing_record(account, event)
        return
    ours = _our_order(account, event)
    if event.fill is not None:
        if ours is not None and ours.status in _UNRESOLVED:
            order_record_result(
                ours,
                OrderResult(
                    status="filled",
                    client_order_id=ours.client_order_id,
                    broker_order_id=event.order_id,
                    fill=event.fill,
                ),
            )
            return
        if ours is not None:
            return  # already recorded from the order's own response
        instrument = Instrument.objects.filter(symbol=event.symbol).first()
        if instrument is None:
            logger.warning("OANDA fill %s for unknown instrument %s not recorded", event.transaction_id, event.symbol)
            return
        fill_record(
            account=account,
            instrument=instrument,
            fill=event.fill,
            instance_id=None,
            order=None,
            close_reason=CLOSE_REASONS.get(event.reason, CloseReason.BROKER),
        )
        return
    if ours is None:
        return
    if event.type == "ORDER_CANCEL" and ours.status in _UNRESOLVED:
        if ours.intent != OrderIntent.OPEN and ours.status != OrderStatus.PENDING:
            status = OrderStatus.REJECTED
        elif event.reason == "TIME_IN_FORCE_EXPIRED":
            status = OrderStatus.EXPIRED
        else:
            status = OrderStatus.CANCELLED
        Order.objects.filter(pk=ours.pk, status=ours.status).update(
            status=status, broker_order_id=ours.broker_order_id or event.order_id, reject_reason=event.reason[:200]
        )
    elif event.type.endswith(_REJECT_SUFFIX) and ours.status in (OrderStatus.SUBMITTING, OrderStatus.UNKNOWN):
        Order.objects.filter(pk=ours.pk, status=ours.status).update(
            status=OrderStatus.REJECTED, reject_reason=event.reason[:200]
        )
    elif event.type.endswith("_ORDER") and ours.status in (OrderStatus.SUBMITTING, OrderStatus.UNKNOWN):
        # Created at the broker; a pending entry order waits there for its fill or cancel.
        if event.type != "MARKET_ORDER":
            Order.objects.filter(pk=ours.pk, status=ours.status).update(
                status=OrderStatus.PENDING, broker_order_id=event.order_id
            )


def _refresh_open_trades(account: BrokerAccount, broker_trades: list) -> None:
    """Copy the broker's figures onto matching open trades (not the state: that is history's job)."""
    by_id = {t.broker_trade_id: t for t in broker_trades}
    for trade in Trade.objects.filter(account=account, state=TradeState.OPEN).exclude(broker_trade_id=""):
        theirs = by_id.get(trade.broker_trade_id)
        if theirs is None:
            continue
        Trade.objects.filter(pk=trade.pk, state=TradeState.OPEN).update(
            unrealized_pl=theirs.unrealized_pl,
            stop_loss=theirs.stop_loss,
            take_profit=theirs.take_profit,
            trailing_distance=theirs.trailing_distance,
        )


def oanda_account_sync(account: BrokerAccount) -> int:
    """Read state and new transactions; returns how many transactions were applied."""
    return oanda_account_sync_report(account).applied


def oanda_account_sync_report(account: BrokerAccount) -> SyncReport:
    """The sync, with what it saw: applied transactions and open trades on both sides."""
    client = oanda_client(account)
    state = client.get_account_state()
    with transaction.atomic():
        locked = BrokerAccount.objects.select_for_update().get(pk=account.pk)
        applied = 0
        last_id = int(state.last_transaction_id or 0)
        if locked.last_transaction_id:
            last_id = max(last_id, int(locked.last_transaction_id))
            for event in client.list_events_since(locked.last_transaction_id):
                _record_event(locked, event)
                applied += 1
                last_id = max(last_id, int(event.transaction_id))
        BrokerAccount.objects.filter(pk=account.pk).update(
            balance=state.balance,
            equity=state.equity,
            margin_used=state.margin_used,
            unrealized_pl=state.unrealized_pl,
            last_transaction_id=str(last_id),
        )
    broker_trades = client.list_open_trades()
    _refresh_open_trades(account, broker_trades)
    db_open = Trade.objects.filter(account=account, state=TradeState.OPEN).count()
    if applied:
        logger.info("OANDA account %s: %d transactions applied, now at %s", account.pk, applied, last_id)
    if account.virtual_mode:
        # Virtual order mode: virtual pending orders and SL/TP are watched at the current (streamed) price.
        from trading.services.virtual.watch import virtual_watch_prices

        virtual_watch_prices(account)
    return SyncReport(
        applied=applied, last_transaction_id=str(last_id), open_trades_broker=len(broker_trades), open_trades_db=db_open
    )


def open_trade_ids(account: BrokerAccount) -> set[str]:
    return set(Trade.objects.filter(account=account, state="open").values_list("broker_trade_id", flat=True))
