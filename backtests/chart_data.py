"""Data for a backtest's browser charts (trading/static/trading/charts.js): the tested range's candles with the
run's trades, and its equity and balance with the drawdown underneath.

The whole tested range is sent (merged into at most MAX_CANDLES candles when it is longer) so a trader can zoom
and pan over all of it, as in MetaTrader's tester graph; the stored curve is already downsampled.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from backtests.models import BacktestRun, WalkForward
from trading.bars.read import bars_as_arrays
from trading.dashboard.chart_data import MAX_CANDLES, candles_of, equity_payload, trade_markers

MAX_MARKED_TRADES = 2000


def run_price_chart(run: BacktestRun, *, limit: int = MAX_CANDLES) -> dict[str, Any]:
    """Candles of the tested bars with the newest MAX_MARKED_TRADES trades (entry arrow with the ticket, exit dot)."""
    empty: dict[str, Any] = {"symbol": run.symbol, "digits": 5, "candles": [], "markers": [], "lines": []}
    if run.instance is None or run.first_bar is None:
        return empty
    instrument = run.instance.instrument
    bars = bars_as_arrays(
        instrument_id=instrument.pk,
        timeframe=run.timeframe,
        start=run.first_bar.replace(second=0, microsecond=0) - timedelta(minutes=run.timeframe),
        end=run.last_bar,
    )
    times, candles = candles_of(bars, limit=limit)
    markers: list[dict[str, Any]] = []
    trades = run.trades.order_by("-close_time", "-ticket").only("ticket", "side", "open_time", "close_time")
    for trade in trades[:MAX_MARKED_TRADES]:
        markers += trade_markers(
            times, buy=trade.side == "buy", opened=trade.open_time, closed=trade.close_time, text=f"#{trade.ticket}"
        )
    markers.sort(key=lambda m: m["time"])
    return {**empty, "digits": instrument.digits, "candles": candles, "markers": markers}


def run_equity_chart(run: BacktestRun | WalkForward) -> dict[str, Any]:
    """Equity, balance and drawdown of the stored curve (a run's, or a walk-forward's stitched one)."""
    curve = run.curve or {}
    rows = zip(curve.get("time", []), curve.get("equity", []), curve.get("balance", []), strict=False)
    return {"currency": run.account_currency, **equity_payload((int(t), eq, bal) for t, eq, bal in rows)}
