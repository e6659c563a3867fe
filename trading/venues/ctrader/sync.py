"""Complete trade history from cTrader: account state plus every deal since the last one applied.

cTrader keeps deals, not transactions: each filled deal opens, adds to, reduces or closes a position, with the
realised gross P/L, swap and commission of what it closed and the balance after it. The deals since the cursor
(``last_transaction_id`` = "<execution ms>:<deal id>") are read first, over the network; then, under the account
row lock, each one newer than the stored cursor is recorded once through ``orders.record`` and the cursor moves
in the same database transaction. A deal of an order of ours settles that order (a lost answer included); any
other deal is a person's trade, a stop loss, a take profit, a stop-out or a netting close, recorded with its
reason. The open positions' broker figures (stop loss, take profit, unrealised P/L; the units of a netted
account's one position) are then copied onto their trades; differences history does not explain are left to
reconciliation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from brokers.base import BrokerEvent, BrokerTrade, OrderResult
from brokers.ctrader.history import parse_cursor
from trading.models import BrokerAccount, CloseReason, Instrument, Order, OrderStatus, Trade, TradeState
from trading.services.orders.record import fill_record, order_record_result
from trading.venues.ctrader.client import ctrader_client

logger = logging.getLogger(__name__)

CLOSE_REASONS = {
    "STOP_LOSS": CloseReason.STOP_LOSS,
    "TRAILING_STOP": CloseReason.TRAILING_STOP,
    "TAKE_PROFIT": CloseReason.TAKE_PROFIT,
    "STOP_OUT": CloseReason.MARGIN_CLOSEOUT,
    "CLOSE": CloseReason.MANUAL,  # a close request that is not one of our orders: a person on cTrader
    "ORDER": CloseReason.FIFO,  # an opposite order on a netted account
}
_UNRESOLVED = (OrderStatus.SUBMITTING, OrderStatus.UNKNOWN, OrderStatus.PENDING)


@dataclass(frozen=True)
class SyncReport:
    applied: int
    cursor: str
    open_trades_broker: int
    open_trades_db: int


def _our_order(account: BrokerAccount, event: BrokerEvent) -> Order | None:
    match = Q(broker_order_id=event.order_id) if event.order_id else Q(pk__in=[])
    if event.client_order_id:
        match |= Q(client_order_id=event.client_order_id)
    return Order.objects.filter(match, account=account).first()


def _record(account: BrokerAccount, event: BrokerEvent) -> None:
    assert event.fill is not None
    ours = _our_order(account, event)
    if ours is not None:
        if ours.status in _UNRESOLVED:
            result = OrderResult(
                status="filled", client_order_id=ours.client_order_id, broker_order_id=event.order_id, fill=event.fill
            )
            order_record_result(ours, result)
        return  # otherwise recorded from the order's own answer
    instrument = Instrument.objects.filter(symbol=event.symbol).first()
    if instrument is None:
        logger.warning("cTrader deal %s for unknown instrument %s not recorded", event.transaction_id, event.symbol)
        return
    fill_record(
        account=account,
        instrument=instrument,
        fill=event.fill,
        instance_id=None,
        order=None,
        close_reason=CLOSE_REASONS.get(event.reason, CloseReason.BROKER),
    )


def _refresh_open_trades(account: BrokerAccount, broker_trades: list[BrokerTrade]) -> None:
    by_id = {t.broker_trade_id: t for t in broker_trades}
    for trade in Trade.objects.filter(account=account, state=TradeState.OPEN).exclude(broker_trade_id=""):
        theirs = by_id.get(trade.broker_trade_id)
        if theirs is None:
            continue
        fields = {
            "unrealized_pl": theirs.unrealized_pl,
            "stop_loss": theirs.stop_loss,
            "take_profit": theirs.take_profit,
        }
        if trade.netting:  # a netted account's one position: later orders add to it at the broker
            fields["current_units"] = theirs.current_units
        Trade.objects.filter(pk=trade.pk, state=TradeState.OPEN).update(**fields)


def ctrader_account_sync(account: BrokerAccount) -> SyncReport:
    """Read state and the deals since the cursor; record each deal once. Returns what it saw."""
    client = ctrader_client(account)
    state = client.get_account_state()
    stored = BrokerAccount.objects.values_list("last_transaction_id", flat=True).get(pk=account.pk)
    events = client.list_events_since(stored)  # network first: no row lock is held while waiting on the broker
    applied = 0
    with transaction.atomic():
        locked = BrokerAccount.objects.select_for_update().get(pk=account.pk)
        cursor = locked.last_transaction_id
        for event in events:
            if parse_cursor(event.transaction_id) <= parse_cursor(cursor) or event.fill is None:
                continue  # another sync got here first
            _record(locked, event)
            cursor = event.transaction_id
            applied += 1
        BrokerAccount.objects.filter(pk=account.pk).update(
            balance=state.balance,
            equity=state.equity,
            margin_used=state.margin_used,
            unrealized_pl=state.unrealized_pl,
            last_transaction_id=cursor,
        )
    broker_trades = client.list_open_trades()
    _refresh_open_trades(account, broker_trades)
    if applied:
        logger.info("cTrader account %s: %d deals applied, cursor %s", account.pk, applied, cursor)
    if account.virtual_mode:
        from trading.services.virtual.watch import virtual_watch_prices

        virtual_watch_prices(account)
    return SyncReport(
        applied=applied,
        cursor=cursor,
        open_trades_broker=len(broker_trades),
        open_trades_db=Trade.objects.filter(account=account, state=TradeState.OPEN).count(),
    )
