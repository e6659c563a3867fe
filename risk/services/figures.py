"""The figures the guard rails compare with their limits (definitions in risk/README.md)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from django.db.models import Max, Q, Sum

from risk.models import RiskLimit
from trading.models import (
    AccountSnapshot,
    BrokerAccount,
    Instrument,
    Order,
    OrderIntent,
    OrderStatus,
    OrderType,
    Side,
    StrategyInstance,
    Trade,
    TradeState,
)
from trading.models.enums import OPEN_ORDER_STATUSES
from trading.services.bar_clock import bar_open_time
from trading.services.prices import PriceUnavailable, last_price, quote_to_account_rate

ZERO = Decimal(0)


def fx_day_start(now: datetime) -> datetime:
    """17:00 New York (as UTC) that opened the FX trading day containing ``now``."""
    return bar_open_time(now, 1440)


def _trades(account: BrokerAccount, instance: StrategyInstance | None) -> Q:
    # On a virtual (FIFO) account the broker's netting trades mirror the instances' virtual ones:
    # count the strategy exposure once, through the virtual trades.
    return Q(account=account, netting=False) if instance is None else Q(instance=instance)


def instance_net_pl(instance: StrategyInstance, since: datetime | None) -> Decimal:
    """Realized P/L of the instance's closed trades plus the open P/L of its open trades."""
    qs = Trade.objects.filter(instance=instance)
    if since is not None:
        qs = qs.filter(open_time__gte=since)
    row = qs.aggregate(realized=Sum("realized_pl"), unrealized=Sum("unrealized_pl", filter=Q(state=TradeState.OPEN)))
    return (row["realized"] or ZERO) + (row["unrealized"] or ZERO)


def drawdown(limit: RiskLimit, account: BrokerAccount) -> tuple[Decimal, Decimal, Decimal]:
    """(drawdown percent, high-water mark, current value); raises the stored mark when it is passed.

    Account limit: value = equity (open P/L included), mark = max(stored mark, snapshots since
    ``peak_since``, current equity), drawdown = (mark - equity) / mark.
    Instance limit: value = the instance's net P/L, mark = its highest (at least 0), drawdown =
    (mark - value) / current account equity.
    """
    if limit.instance is None:
        current = account.equity
        snapshots = AccountSnapshot.objects.filter(account=account)
        if limit.peak_since is not None:
            snapshots = snapshots.filter(time__gte=limit.peak_since)
        candidates = [current, snapshots.aggregate(m=Max("equity"))["m"], limit.peak_equity]
        base = None
    else:
        current = instance_net_pl(limit.instance, limit.peak_since)
        candidates = [current, ZERO, limit.peak_equity]
        base = account.equity
    peak = max(c for c in candidates if c is not None)
    if limit.peak_equity is None or peak > limit.peak_equity:
        RiskLimit.objects.filter(pk=limit.pk).filter(Q(peak_equity__isnull=True) | Q(peak_equity__lt=peak)).update(
            peak_equity=peak
        )
        limit.peak_equity = peak
    denominator = peak if base is None else base
    if denominator <= 0:
        return (Decimal(100) if peak > current else ZERO), peak, current
    return (peak - current) / denominator * 100, peak, current


def daily_pl(account: BrokerAccount, instance: StrategyInstance | None, now: datetime) -> Decimal:
    """P/L since the FX day started: realized on trades closed today + change in open P/L.

    Account: realized today + (open P/L now - open P/L of the last snapshot at or before the day start).
    Instance (no per-instance snapshots): realized today + the open P/L of its open trades now.
    """
    start = fx_day_start(now)
    scope = _trades(account, instance)
    realized = (
        Trade.objects.filter(scope, state=TradeState.CLOSED, close_time__gte=start).aggregate(s=Sum("realized_pl"))["s"]
        or ZERO
    )
    if instance is None:
        open_now = account.unrealized_pl
        at_start = (
            AccountSnapshot.objects.filter(account=account, time__lte=start)
            .order_by("-time")
            .values_list("unrealized_pl", flat=True)
            .first()
        ) or ZERO
        return realized + open_now - at_start
    open_now = Trade.objects.filter(scope, state=TradeState.OPEN).aggregate(s=Sum("unrealized_pl"))["s"] or ZERO
    return realized + open_now


def open_positions(account: BrokerAccount, instance: StrategyInstance | None) -> int:
    """Open trades plus entry orders that may still become trades (unsent, in flight, pending at the broker)."""
    scope = _trades(account, instance)
    trades = Trade.objects.filter(scope, state=TradeState.OPEN).count()
    entries = Order.objects.filter(scope, intent=OrderIntent.OPEN, status__in=OPEN_ORDER_STATUSES).count()
    return trades + entries


def notional(instrument: Instrument, currency: str, units: Decimal, price: Decimal) -> Decimal:
    """units × price × (quote → account currency rate at ``price``)."""
    return units * price * quote_to_account_rate(instrument, currency, price=price)


def currency_exposure(account: BrokerAccount, instance: StrategyInstance | None) -> dict[str, Decimal]:
    """Net signed notional per currency (account currency excluded), valued at the latest prices.

    Open trades and market entries still in flight. A long trade of BASE/QUOTE adds +N to BASE and -N to QUOTE, N = its notional; a short the opposite.
    """
    exposure: dict[str, Decimal] = defaultdict(lambda: ZERO)
    marks: dict[int, Decimal] = {}
    for trade in Trade.objects.filter(_trades(account, instance), state=TradeState.OPEN).select_related("instrument"):
        inst = trade.instrument
        if inst.pk not in marks:
            try:
                marks[inst.pk] = last_price(inst).bid
            except PriceUnavailable:
                marks[inst.pk] = trade.open_price
        n = notional(inst, account.currency, trade.current_units, marks[inst.pk])
        sign = 1 if trade.side == Side.BUY else -1
        exposure[inst.base_currency] += sign * n
        exposure[inst.quote_currency] -= sign * n
    # Market entries in flight (not sent, being sent, answer lost) are exposure already: valued at their
    # reference price, they count until their fill (or its absence) is recorded.
    in_flight = Order.objects.filter(
        _trades(account, instance),
        intent=OrderIntent.OPEN,
        order_type=OrderType.MARKET,
        status__in=(OrderStatus.NEW, OrderStatus.SUBMITTING, OrderStatus.UNKNOWN),
    ).select_related("instrument")
    for order in in_flight:
        inst = order.instrument
        price = order.price if order.price is not None else marks.get(inst.pk)
        if price is None:
            try:
                price = marks[inst.pk] = last_price(inst).bid
            except PriceUnavailable:
                continue  # no price anywhere: its notional cannot be known (the fat-finger rule has refused it)
        n = notional(inst, account.currency, order.units, price)
        sign = 1 if order.side == Side.BUY else -1
        exposure[inst.base_currency] += sign * n
        exposure[inst.quote_currency] -= sign * n
    exposure.pop(account.currency, None)
    return dict(exposure)
