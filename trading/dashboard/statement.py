"""The account statement (MetaTrader's "detailed statement"): closed trades of a period, the trades open now,
balance movements, summary statistics with MetaTrader's names, and the equity over the period.

A trade's effect on the balance is its realised P/L plus its financing (swap) minus its commission (brokers
report the commission as a positive cost). What moved the balance and no trade explains (deposits,
withdrawals, broker adjustments) is shown as one line, from the account snapshots at both ends.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np
from django.db.models import Count, F, Sum

from backtests.engine import stats
from trading.models import AccountSnapshot, BrokerAccount, Trade, TradeState

ZERO = Decimal(0)
SHOWN_TRADES = 5000  # rows in the HTML/PDF statement; the CSV has every trade


@dataclass
class Statement:
    account: BrokerAccount
    start: datetime
    end: datetime  # exclusive
    closed: Any  # QuerySet[Trade], closed in [start, end), by close time
    closed_count: int
    open_trades: list[Trade]
    balance_start: Decimal
    balance_end: Decimal
    trade_result: Decimal  # Σ realised + swap − commission of the closed trades
    other_changes: Decimal  # deposits, withdrawals, adjustments: what no trade explains
    totals: dict[str, Decimal]
    statistics: dict[str, Any] = field(default_factory=dict)
    equity: list[tuple[datetime, Decimal, Decimal]] = field(default_factory=list)


def _balance_at(account: BrokerAccount, when: datetime, *, default: Decimal) -> Decimal:
    value = (
        AccountSnapshot.objects.filter(account=account, time__lt=when)
        .order_by("-time")
        .values_list("balance", flat=True)
        .first()
    )
    return default if value is None else value


def statement_build(*, account: BrokerAccount, start: datetime, end: datetime) -> Statement:
    """Assemble the statement of ``account`` for [start, end)."""
    closed = (
        Trade.objects.filter(account=account, state=TradeState.CLOSED, close_time__gte=start, close_time__lt=end)
        .select_related("instrument", "instance")
        .order_by("close_time", "id")
    )
    agg = closed.aggregate(
        n=Count("id"),
        realized=Sum("realized_pl"),
        financing=Sum("financing"),
        commission=Sum("commission"),
    )
    totals = {k: agg[k] or ZERO for k in ("realized", "financing", "commission")}
    trade_result = totals["realized"] + totals["financing"] - totals["commission"]
    first = AccountSnapshot.objects.filter(account=account).order_by("time").values_list("balance", flat=True).first()
    balance_start = _balance_at(account, start, default=first if first is not None else account.balance)
    balance_end = _balance_at(account, end, default=account.balance)
    if end > datetime.now(tz=start.tzinfo):
        balance_end = account.balance
    statement = Statement(
        account=account,
        start=start,
        end=end,
        closed=closed,
        closed_count=agg["n"],
        open_trades=list(
            Trade.objects.filter(account=account, state=TradeState.OPEN)
            .select_related("instrument", "instance")
            .order_by("open_time")
        ),
        balance_start=balance_start,
        balance_end=balance_end,
        trade_result=trade_result,
        other_changes=balance_end - balance_start - trade_result,
        totals=totals,
    )
    statement.statistics = _statistics(closed, balance_start)
    statement.equity = list(
        AccountSnapshot.objects.filter(account=account, time__gte=start, time__lt=end)
        .order_by("time")
        .values_list("time", "equity", "balance")[:20000]
    )
    return statement


def _statistics(closed: Any, initial: Decimal) -> dict[str, Any]:
    """MetaTrader's summary over the period's closed trades (keys as in backtests.engine.stats.MT_NAMES)."""
    net = F("realized_pl") + F("financing") - F("commission")
    rows = list(closed.annotate(net=net).values_list("net", "side"))
    profits = [float(p) for p, _ in rows]
    longs = [float(p) for p, side in rows if side == "buy"]
    shorts = [float(p) for p, side in rows if side == "sell"]
    wins, losses = [p for p in profits if p > 0], [p for p in profits if p < 0]
    start = float(initial)
    curve = start + np.cumsum(np.asarray(profits, dtype=np.float64)) if profits else np.asarray([start])
    return {
        "initial_balance": start,
        "net_profit": stats.net_profit(profits),
        "gross_profit": stats.gross_profit(profits),
        "gross_loss": stats.gross_loss(profits),
        "profit_factor": stats.profit_factor(profits),
        "expected_payoff": stats.expected_payoff(profits),
        "balance_drawdown_absolute": stats.drawdown_absolute(curve, start),
        "balance_drawdown_maximal": stats.drawdown_maximal(curve, start),
        "balance_drawdown_relative": stats.drawdown_relative(curve, start),
        "total_trades": len(profits),
        "long_trades": len(longs),
        "long_won_percent": 100.0 * sum(p > 0 for p in longs) / len(longs) if longs else None,
        "short_trades": len(shorts),
        "short_won_percent": 100.0 * sum(p > 0 for p in shorts) / len(shorts) if shorts else None,
        "profit_trades": len(wins),
        "loss_trades": len(losses),
        "win_rate": 100.0 * len(wins) / len(profits) if profits else None,
        "largest_win": max(wins) if wins else None,
        "largest_loss": min(losses) if losses else None,
        "average_win": sum(wins) / len(wins) if wins else None,
        "average_loss": sum(losses) / len(losses) if losses else None,
        "max_consecutive_wins": stats.longest_streak(profits, True),
        "max_consecutive_losses": stats.longest_streak(profits, False),
    }


CSV_HEADER = (
    "ticket",
    "section",
    "instance",
    "symbol",
    "type",
    "units",
    "open_time",
    "open_price",
    "stop_loss",
    "take_profit",
    "close_time",
    "close_price",
    "close_reason",
    "commission",
    "swap",
    "profit",
    "currency",
)


def _csv_row(trade: Trade, section: str, currency: str) -> list[Any]:
    closed = trade.state == TradeState.CLOSED
    return [
        trade.pk,
        section,
        trade.instance_id or "",
        trade.instrument.symbol,
        trade.side,
        trade.initial_units if closed else trade.current_units,
        trade.open_time.isoformat(),
        trade.open_price,
        "" if trade.stop_loss is None else trade.stop_loss,
        "" if trade.take_profit is None else trade.take_profit,
        trade.close_time.isoformat() if trade.close_time else "",
        "" if trade.close_price is None else trade.close_price,
        trade.close_reason,
        trade.commission,
        trade.financing,
        trade.realized_pl if closed else trade.unrealized_pl,
        currency,
    ]


def statement_csv(statement: Statement) -> Iterator[str]:
    """Every closed trade of the period, then the open ones, one CSV line each (streamed: any size)."""
    out = io.StringIO()
    writer = csv.writer(out)

    def flush() -> str:
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        return text

    writer.writerow(CSV_HEADER)
    yield flush()
    currency = statement.account.currency
    for trade in statement.closed.iterator(chunk_size=2000):
        writer.writerow(_csv_row(trade, "closed", currency))
        yield flush()
    for trade in statement.open_trades:
        writer.writerow(_csv_row(trade, "open", currency))
    yield flush()


def open_pl(statement: Statement) -> Decimal:
    return sum((t.unrealized_pl for t in statement.open_trades), ZERO)
