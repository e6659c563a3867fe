"""Paper broker bar simulation: pending orders, stop losses and take profits on new bars.

Rules (documented in the README too):
- Bars are bid prices; the ask is bid + the bar's spread (or the instrument's spread).
- Each new bar, in order: pending orders past their expiry are cancelled; pending orders trigger
  (buy side against the ask, sell side against the bid); then SL/TP of trades opened before the bar.
- The trigger and exit rules are the pure functions of brokers.paper.rules (shared with the backtester).
- Gaps: a level already passed at the bar's open fills at the open (worse for stops, better for limits),
  as a real broker would.
- SL and TP both inside one bar: the stop loss wins (the pessimistic assumption).
- A trade opened by a pending order on a bar is checked for SL/TP from the next bar on.
- A trailing distance moves the stop after each bar by that bar's best price.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from brokers.base import OrderResult
from brokers.paper.client import PaperBroker, money
from brokers.paper.rules import exit_price, pending_fill_price
from trading.models import (
    AccountSnapshot,
    Bar,
    BrokerAccount,
    CloseReason,
    Instrument,
    Order,
    OrderStatus,
    Side,
    Trade,
    TradeState,
)
from trading.services.orders.dispatch import orders_dispatch_after_commit
from trading.services.orders.record import fill_record, order_record_result
from trading.services.prices import LastPrice, PriceUnavailable, last_price, quote_to_account_rate
from trading.services.virtual.watch import PriceBar, virtual_watch

SNAPSHOT_EVERY = timedelta(minutes=1)
MAX_CATCH_UP = timedelta(days=7)


@dataclass(frozen=True)
class SimBar:
    time: datetime  # open time
    close_time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    spread: Decimal


def _bars_after(instrument: Instrument, start: datetime, until: datetime) -> list[SimBar]:
    for timeframe in (1, 5, 15, 60, 240, 1440):
        rows = list(
            Bar.objects.filter(
                instrument=instrument,
                timeframe=timeframe,
                complete=True,
                time__gt=start - timedelta(minutes=timeframe),
                time__lte=until - timedelta(minutes=timeframe),
            )
            .order_by("time")
            .values_list("time", "open", "high", "low", "close", "spread")
        )
        if rows:
            f = instrument.from_points
            return [
                SimBar(
                    time=t,
                    close_time=t + timedelta(minutes=timeframe),
                    open=f(o),
                    high=f(h),
                    low=f(lo),
                    close=f(c),
                    spread=f(sp if sp is not None else instrument.spread_points),
                )
                for t, o, h, lo, c, sp in rows
            ]
    return []


def _pending_fill_price(order: Order, bar: SimBar) -> Decimal | None:
    assert order.price is not None
    return pending_fill_price(
        buy=order.side == Side.BUY,
        stop=order.order_type == "stop",
        level=order.price,
        open_=bar.open,
        high=bar.high,
        low=bar.low,
        spread=bar.spread,
    )


def _exit_price(trade: Trade, bar: SimBar) -> tuple[Decimal, str] | None:
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
        return None
    price, kind = hit
    if kind == "take_profit":
        return price, CloseReason.TAKE_PROFIT
    return price, CloseReason.TRAILING_STOP if trade.trailing_distance else CloseReason.STOP_LOSS


def _trail(trade: Trade, bar: SimBar) -> None:
    if not trade.trailing_distance:
        return
    if trade.side == Side.BUY:
        candidate = bar.high - trade.trailing_distance
        better = trade.stop_loss is None or candidate > trade.stop_loss
    else:
        candidate = bar.low + bar.spread + trade.trailing_distance
        better = trade.stop_loss is None or candidate < trade.stop_loss
    if better:
        trade.stop_loss = candidate
        Trade.objects.filter(pk=trade.pk).update(stop_loss=candidate)


def _simulate_instrument(broker: PaperBroker, instrument: Instrument, start: datetime, until: datetime) -> None:
    account = broker.account
    bars = _bars_after(instrument, start, until)
    for bar in bars:
        opened_now: set[int] = set()
        pending = Order.objects.filter(
            account=account, instrument=instrument, status=OrderStatus.PENDING, virtual=False
        ).order_by("id")
        for order in pending:
            if order.expires_at is not None and order.expires_at <= bar.time:
                Order.objects.filter(pk=order.pk, status=OrderStatus.PENDING).update(
                    status=OrderStatus.EXPIRED, reject_reason="expired (GTD)"
                )
                continue
            price = _pending_fill_price(order, bar)
            if price is not None:
                fill = broker.fill_pending(order, price=price, time=bar.time)
                order_record_result(
                    order,
                    OrderResult(
                        status="filled",
                        client_order_id=order.client_order_id,
                        broker_order_id=order.broker_order_id,
                        fill=fill,
                    ),
                )
                order.refresh_from_db(fields=["trade"])
                if order.trade_id:
                    opened_now.add(order.trade_id)
        trades = (
            Trade.objects.filter(
                account=account, instrument=instrument, state=TradeState.OPEN, open_time__lte=bar.time, virtual=False
            )
            .exclude(pk__in=opened_now)
            .select_related("instrument")
        )
        for trade in trades:
            exit_ = _exit_price(trade, bar)
            if exit_ is None:
                _trail(trade, bar)
                continue
            price, reason = exit_
            fill = broker.close_fill(trade, price=price, time=bar.time)
            fill_record(
                account=account,
                instrument=instrument,
                fill=fill,
                instance_id=trade.instance_id,
                order=None,
                close_reason=reason,
            )
        if account.virtual_mode:
            # Virtual order mode: the platform executes virtual pending orders and SL/TP by the same bar rules;
            # their netting order goes out when this pass commits (trading/services/virtual/README.md).
            netting = virtual_watch(
                account=account,
                instrument=instrument,
                bar=PriceBar(time=bar.time, open=bar.open, high=bar.high, low=bar.low, spread=bar.spread),
            )
            if netting is not None:
                orders_dispatch_after_commit(account=account, instrument_id=instrument.pk)


def paper_revalue(account: BrokerAccount, *, now: datetime | None = None, write_trades: bool = True) -> None:
    """Recompute unrealized P/L, margin and equity from the latest prices; snapshot once a minute.

    Prices and conversion rates are read once per instrument. ``write_trades`` also stores each open
    trade's unrealized P/L and margin (the minute tick does; a strategy run only needs the totals).
    """
    now = now or timezone.now()
    account.refresh_from_db(fields=["balance"])
    unrealized_total = Decimal(0)
    margin_total = Decimal(0)
    marks: dict[int, tuple[LastPrice, Decimal] | None] = {}
    updates = []
    for trade in Trade.objects.filter(account=account, state=TradeState.OPEN).select_related("instrument"):
        if trade.instrument_id not in marks:
            try:
                price = last_price(trade.instrument)
                marks[trade.instrument_id] = (
                    price,
                    quote_to_account_rate(trade.instrument, account.currency, price=price.bid),
                )
            except PriceUnavailable:
                marks[trade.instrument_id] = None
        mark_rate = marks[trade.instrument_id]
        if mark_rate is None:
            continue
        price, rate = mark_rate
        mark = price.bid if trade.side == Side.BUY else price.ask
        diff = (mark - trade.open_price) if trade.side == Side.BUY else (trade.open_price - mark)
        trade.unrealized_pl = money(diff * trade.current_units * rate)
        trade.margin_used = money(trade.current_units * mark * trade.instrument.margin_rate * rate)
        updates.append(trade)
        if trade.virtual:  # virtual trades are shown with their P/L, but the broker's net trades hold the money
            trade.margin_used = Decimal(0)
            continue
        unrealized_total += trade.unrealized_pl
        margin_total += trade.margin_used
    if write_trades and updates:
        Trade.objects.bulk_update(updates, ["unrealized_pl", "margin_used"], batch_size=500)
    equity = account.balance + unrealized_total
    BrokerAccount.objects.filter(pk=account.pk).update(
        unrealized_pl=unrealized_total, margin_used=margin_total, equity=equity
    )
    account.unrealized_pl, account.margin_used, account.equity = unrealized_total, margin_total, equity
    last = AccountSnapshot.objects.filter(account=account).order_by("-time").values_list("time", flat=True).first()
    if last is None or now - last >= SNAPSHOT_EVERY:
        AccountSnapshot.objects.create(
            account=account,
            time=now,
            balance=account.balance,
            equity=equity,
            margin_used=margin_total,
            unrealized_pl=unrealized_total,
        )


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def paper_account_process(account: BrokerAccount, *, until: datetime | None = None, write_trades: bool = False) -> bool:
    """Bring a paper account up to ``until``: simulate new bars for its open trades and pending orders.

    Returns False without touching the database when no bar has closed since the last pass.
    """
    until = until or timezone.now()
    done = account.paper_processed_until
    if done is not None and _minute(done) >= _minute(until):
        return False
    _process(account, until, write_trades)
    return True


@transaction.atomic
def _process(account: BrokerAccount, until: datetime, write_trades: bool) -> None:
    account = BrokerAccount.objects.select_for_update().get(pk=account.pk)
    start = account.paper_processed_until or until
    start = max(start, until - MAX_CATCH_UP)
    broker = PaperBroker(account)
    instrument_ids = set(
        Trade.objects.filter(account=account, state=TradeState.OPEN).values_list("instrument_id", flat=True)
    ) | set(Order.objects.filter(account=account, status=OrderStatus.PENDING).values_list("instrument_id", flat=True))
    for instrument in Instrument.objects.filter(Q(pk__in=instrument_ids)):
        _simulate_instrument(broker, instrument, start, until)
    BrokerAccount.objects.filter(pk=account.pk).update(paper_processed_until=until)
    account.paper_processed_until = until
    paper_revalue(account, now=until, write_trades=write_trades)
