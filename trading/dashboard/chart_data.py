"""Data for the browser charts (trading/static/trading/charts.js draws them with lightweight-charts):
an instance's candles with its trades as markers and its open trades' SL/TP as lines; an account's equity,
balance and drawdown. Times are UTC epoch seconds, strictly increasing as the library wants.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
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
    times, candles = candles_of(bars)
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
    closed = trade.close_time if trade.state == TradeState.CLOSED and trade.close_price is not None else None
    return trade_markers(times, buy=trade.side == "buy", opened=trade.open_time, closed=closed, text=f"#{trade.pk}")


def trade_markers(
    times: np.ndarray, *, buy: bool, opened: datetime, closed: datetime | None, text: str
) -> list[dict[str, Any]]:
    """An entry arrow (up for a buy, down for a sell, with ``text``) and an exit dot on the bars they fall in."""
    out = []
    k = _bar_index(times, opened)
    if k is not None:
        out.append(
            {
                "time": int(times[k]),
                "position": "belowBar" if buy else "aboveBar",
                "shape": "arrowUp" if buy else "arrowDown",
                "color": "#13702f" if buy else "#b3161f",
                "text": text,
            }
        )
    k = _bar_index(times, closed) if closed is not None else None
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


def candles_of(bars: Any, *, limit: int = MAX_CANDLES) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Candles of ``bars`` (arrays of time, open, high, low, close); a longer history than ``limit`` candles is
    merged k bars to a candle (first open, highest high, lowest low, last close), so all of it stays on the
    chart to zoom and pan over. Returns the candles' open times with the candles."""
    times = bars.time.astype(np.int64)
    o, h, low, c = bars.open, bars.high, bars.low, bars.close
    if len(times) > limit:
        k = -(-len(times) // limit)
        starts = np.arange(0, len(times), k)
        ends = np.minimum(starts + k, len(times)) - 1
        times, o, c = times[starts], o[starts], c[ends]
        h, low = np.maximum.reduceat(h, starts), np.minimum.reduceat(low, starts)
    candles = [
        {"time": int(t), "open": float(op), "high": float(hi), "low": float(lo), "close": float(cl)}
        for t, op, hi, lo, cl in zip(times, o, h, low, c, strict=True)
    ]
    return times, candles


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
    return {"currency": account.currency, **equity_payload((int(t.timestamp()), eq, bal) for t, eq, bal in rows)}


def equity_payload(rows: Iterable[tuple[int, Any, Any]]) -> dict[str, list[dict[str, float]]]:
    """Equity, balance and the drawdown below the running equity peak (in percent, negative, drawn under the
    equity) from (epoch seconds, equity, balance) rows in time order; of two rows in one second the later stays."""
    equity: list[dict[str, float]] = []
    balance: list[dict[str, float]] = []
    drawdown: list[dict[str, float]] = []
    peak = 0.0
    last = None
    for t, eq, bal in rows:
        if t == last:
            equity.pop(), balance.pop(), drawdown.pop()
        last = t
        value = float(eq)
        peak = max(peak, value)
        dd = (peak - value) / peak * 100 if peak > 0 else 0.0
        equity.append({"time": t, "value": value})
        balance.append({"time": t, "value": float(bal)})
        drawdown.append({"time": t, "value": -round(dd, 4)})
    return {"equity": equity, "balance": balance, "drawdown": drawdown}
