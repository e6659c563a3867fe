"""Data for the browser charts (trading/static/trading/charts.js draws them with lightweight-charts):
an instance's candles with its trades as markers and its open trades' SL/TP as lines; an account's equity,
balance and drawdown. Times are UTC epoch seconds, strictly increasing as the library wants.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np

from trading.bars.read import bars_as_arrays
from trading.models import AccountSnapshot, BrokerAccount, StrategyInstance, Trade, TradeState

MAX_CANDLES = 5000
MAX_SNAPSHOTS = 5000
MAX_MARKED_TRADES = 500


def _bar_index(times: np.ndarray, when: datetime) -> int | None:
    """The bar whose open time is the last at or before ``when`` (None: before the first bar)."""
    k = int(np.searchsorted(times, int(when.timestamp()), side="right")) - 1
    return k if k >= 0 else None


def instance_chart(instance: StrategyInstance, *, count: int = 1500) -> dict[str, Any]:
    """Candles of the instance's instrument and timeframe, with its trades and its open trades' SL/TP."""
    bars = bars_as_arrays(
        instrument_id=instance.instrument_id, timeframe=instance.timeframe, count=max(1, min(count, MAX_CANDLES))
    )
    times = bars.time.astype(np.int64)
    candles = [
        {"time": int(t), "open": float(o), "high": float(h), "low": float(low), "close": float(c)}
        for t, o, h, low, c in zip(times, bars.open, bars.high, bars.low, bars.close, strict=True)
    ]
    markers: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    if len(times):
        start = datetime.fromtimestamp(int(times[0]), tz=UTC)
        trades = (
            Trade.objects.filter(instance=instance, open_time__gte=start)
            .order_by("-open_time")
            .only("id", "side", "open_time", "open_price", "close_time", "close_price", "state", "current_units")
        )
        for trade in reversed(list(trades[:MAX_MARKED_TRADES])):
            markers += _trade_markers(trade, times)
    for trade in Trade.objects.filter(instance=instance, state=TradeState.OPEN).order_by("open_time"):
        for kind, level in (("SL", trade.stop_loss), ("TP", trade.take_profit)):
            if level is not None:
                lines.append({"price": float(level), "title": f"{kind} #{trade.pk}", "kind": kind.lower()})
    markers.sort(key=lambda m: m["time"])
    return {
        "symbol": instance.instrument.symbol,
        "digits": instance.instrument.digits,
        "candles": candles,
        "markers": markers,
        "lines": lines,
    }


def _trade_markers(trade: Trade, times: np.ndarray) -> list[dict[str, Any]]:
    buy = trade.side == "buy"
    out = []
    k = _bar_index(times, trade.open_time)
    if k is not None:
        out.append(
            {
                "time": int(times[k]),
                "position": "belowBar" if buy else "aboveBar",
                "shape": "arrowUp" if buy else "arrowDown",
                "color": "#13702f" if buy else "#b3161f",
                "text": f"#{trade.pk}",
            }
        )
    if trade.state == TradeState.CLOSED and trade.close_time is not None and trade.close_price is not None:
        k = _bar_index(times, trade.close_time)
        if k is not None:
            out.append(
                {
                    "time": int(times[k]),
                    "position": "aboveBar" if buy else "belowBar",
                    "shape": "circle",
                    "color": "#0b5cd5",
                    "text": "",
                }
            )
    return out


def account_equity(
    account: BrokerAccount, *, count: int = MAX_SNAPSHOTS, start: datetime | None = None, end: datetime | None = None
) -> dict[str, Any]:
    """Equity and balance from the newest ``count`` snapshots (in [start, end) when given), and the drawdown
    below the running equity peak (in percent, drawn under the equity)."""
    snapshots = AccountSnapshot.objects.filter(account=account)
    if start is not None and end is not None:
        snapshots = snapshots.filter(time__gte=start, time__lt=end)
    rows = list(
        snapshots.order_by("-time").values_list("time", "equity", "balance")[: max(1, min(count, MAX_SNAPSHOTS))]
    )
    rows.reverse()
    equity: list[dict[str, float]] = []
    balance: list[dict[str, float]] = []
    drawdown: list[dict[str, float]] = []
    peak = Decimal(0)
    last = None
    for time, eq, bal in rows:
        t = int(time.timestamp())
        if t == last:  # two snapshots in one second: keep the later one
            equity.pop(), balance.pop(), drawdown.pop()
        last = t
        peak = max(peak, eq)
        dd = float((peak - eq) / peak * 100) if peak > 0 else 0.0
        equity.append({"time": t, "value": float(eq)})
        balance.append({"time": t, "value": float(bal)})
        drawdown.append({"time": t, "value": -round(dd, 4)})
    return {"currency": account.currency, "equity": equity, "balance": balance, "drawdown": drawdown}
