"""The paper account's bars, simulated: pending orders, stop losses and take profits on new bars.

What a bar does is decided by the paper broker's pure rules (``brokers.paper.simulate``); this module reads
the account's resting orders and open trades, asks those rules, and writes the fills through
``orders.record`` like any broker's fills. Documented in the README too:
- Bars are bid prices; the ask is bid + the bar's spread (or the instrument's spread).
- Each new bar, in order: pending orders past their expiry are cancelled; pending orders trigger
  (buy side against the ask, sell side against the bid); then SL/TP of trades opened before the bar.
- Gaps: a level already passed at the bar's open fills at the open (worse for stops, better for limits).
- SL and TP both inside one bar: the stop loss wins (the pessimistic assumption).
- A trade opened by a pending order on a bar is checked for SL/TP from the next bar on.
- A trailing distance moves the stop after each bar by that bar's best price.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from brokers.base import OrderResult
from brokers.paper.simulate import OpenTrade, RestingOrder, SimBar, orders_step, trades_step
from trading.models import (
    AccountSnapshot,
    Bar,
    Broker,
    BrokerAccount,
    CloseReason,
    Instrument,
    Order,
    OrderStatus,
    Side,
    Trade,
    TradeState,
)
from trading.money import money
from trading.services.orders.dispatch import orders_dispatch_after_commit
from trading.services.orders.record import fill_record, order_record_result
from trading.services.prices import LastPrice, PriceUnavailable, last_price, quote_to_account_rate
from trading.services.virtual.watch import PriceBar, virtual_watch
from trading.venues.paper.ledger import PaperLedger

SNAPSHOT_EVERY = timedelta(minutes=1)
MAX_CATCH_UP = timedelta(days=7)
_EXIT_REASONS = {"stop_loss": CloseReason.STOP_LOSS, "take_profit": CloseReason.TAKE_PROFIT}


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


def _resting(order: Order) -> RestingOrder:
    assert order.price is not None  # a pending order always has its level
    return RestingOrder(
        key=order.pk,
        buy=order.side == Side.BUY,
        stop=order.order_type == "stop",
        price=order.price,
        expires_at=order.expires_at,
    )


def _open(trade: Trade) -> OpenTrade:
    return OpenTrade(
        key=trade.pk,
        buy=trade.side == Side.BUY,
        open_time=trade.open_time,
        stop_loss=trade.stop_loss,
        take_profit=trade.take_profit,
        trailing_distance=trade.trailing_distance,
    )


def _simulate_instrument(ledger: PaperLedger, instrument: Instrument, start: datetime, until: datetime) -> None:
    account = ledger.account
    for bar in _bars_after(instrument, start, until):
        pending = {
            o.pk: o
            for o in Order.objects.filter(
                account=account, instrument=instrument, status=OrderStatus.PENDING, virtual=False
            ).order_by("id")
        }
        step = orders_step(bar, (_resting(o) for o in pending.values()))
        for key in step.expired:
            Order.objects.filter(pk=key, status=OrderStatus.PENDING).update(
                status=OrderStatus.EXPIRED, reject_reason="expired (GTD)"
            )
        opened_now: set[int] = set()
        for key, price in step.triggered:
            order = pending[key]
            fill = ledger.fill_pending(order, price=price, time=bar.time)
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
        trades = {
            t.pk: t
            for t in Trade.objects.filter(
                account=account, instrument=instrument, state=TradeState.OPEN, open_time__lte=bar.time, virtual=False
            )
            .exclude(pk__in=opened_now)
            .select_related("instrument")
        }
        step = trades_step(bar, (_open(t) for t in trades.values()))
        for exit_ in step.exits:
            trade = trades[exit_.key]
            fill = ledger.close_fill(trade, price=exit_.price, time=bar.time)
            reason = CloseReason.TRAILING_STOP if exit_.trailing else _EXIT_REASONS[exit_.kind]
            fill_record(
                account=account,
                instrument=instrument,
                fill=fill,
                instance_id=trade.instance_id,
                order=None,
                close_reason=reason,
            )
        for key, stop in step.trailed:
            Trade.objects.filter(pk=key).update(stop_loss=stop)
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
    ledger = PaperLedger(account)
    # The instruments with open trades or pending orders, in one query (none: nothing to simulate, no more reads).
    instrument_ids = set(
        Trade.objects.filter(account=account, state=TradeState.OPEN)
        .values_list("instrument_id", flat=True)
        .order_by()
        .union(
            Order.objects.filter(account=account, status=OrderStatus.PENDING)
            .values_list("instrument_id", flat=True)
            .order_by()
        )
    )
    if instrument_ids:
        for instrument in Instrument.objects.filter(Q(pk__in=instrument_ids)):
            _simulate_instrument(ledger, instrument, start, until)
    BrokerAccount.objects.filter(pk=account.pk).update(paper_processed_until=until)
    account.paper_processed_until = until
    paper_revalue(account, now=until, write_trades=write_trades)


def paper_account_tick(account_id: int) -> None:
    """The minute tick of one paper account: simulate new bars, else refresh each open trade's P/L and margin."""
    account = BrokerAccount.objects.get(pk=account_id)
    if not paper_account_process(account, write_trades=True):
        # A strategy run already simulated this bar; still refresh each trade's open P/L and margin.
        paper_revalue(account, write_trades=True)


def paper_market_tick(tick_account: Callable[[int], object]) -> int:
    """Extend the simulated feed, then ``tick_account(id)`` for every enabled paper account; returns bars added."""
    from trading.services.feed import feed_ensure_all

    added = feed_ensure_all()
    for account_id in BrokerAccount.objects.filter(broker=Broker.PAPER, enabled=True).values_list("pk", flat=True):
        tick_account(account_id)
    return added
