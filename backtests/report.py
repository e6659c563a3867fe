"""The one-page report of a backtest run: statistics, equity/balance and price charts as inline SVG, trades CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from backtests.engine.stats import MT_NAMES
from backtests.models import BacktestRun, WalkForward
from trading.bars.read import bars_as_arrays

PRICE_POINTS = 1500
MAX_MARKERS = 400
CSV_FIELDS = (
    "ticket",
    "side",
    "order_type",
    "units",
    "open_time",
    "close_time",
    "open_price",
    "close_price",
    "stop_loss",
    "take_profit",
    "pl",
    "commission",
    "swap",
    "profit",
    "balance",
    "close_reason",
)


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    kind: str  # buy, sell (entries) or exit
    title: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    lines: dict[str, str]  # name -> SVG polyline points
    y_min: float
    y_max: float
    start: datetime | None
    end: datetime | None
    markers: list[Marker]


def _scale(times: np.ndarray, series: dict[str, np.ndarray], width: int, height: int) -> tuple:
    left, right, top, bottom = 70, width - 10, 10, height - 24
    values = np.concatenate([v for v in series.values() if len(v)]) if series else np.zeros(0)
    y_min, y_max = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
    if y_min == y_max:
        y_min, y_max = y_min - 1, y_max + 1
    t0, t1 = (float(times[0]), float(times[-1])) if len(times) else (0.0, 1.0)
    span = (t1 - t0) or 1.0

    def x(t: float) -> float:
        return left + (right - left) * (t - t0) / span

    def y(v: float) -> float:
        return bottom - (bottom - top) * (v - y_min) / (y_max - y_min)

    return left, right, top, bottom, y_min, y_max, x, y


def _points(times: np.ndarray, values: np.ndarray, x, y) -> str:
    return " ".join(f"{x(float(t)):.1f},{y(float(v)):.1f}" for t, v in zip(times, values, strict=True))


def equity_chart(run: BacktestRun | WalkForward, *, width: int = 900, height: int = 260) -> Chart | None:
    """Equity and balance of the stored (downsampled) curve: a run's, or a walk-forward's stitched one."""
    curve = run.curve or {}
    times = np.asarray(curve.get("time", []), dtype=np.float64)
    if not len(times):
        return None
    series = {name: np.asarray(curve[name], dtype=np.float64) for name in ("equity", "balance")}
    left, right, top, bottom, y_min, y_max, x, y = _scale(times, series, width, height)
    return Chart(
        width,
        height,
        left,
        right,
        top,
        bottom,
        {k: _points(times, v, x, y) for k, v in series.items()},
        y_min,
        y_max,
        _dt(times[0]),
        _dt(times[-1]),
        [],
    )


def price_chart(run: BacktestRun, *, width: int = 900, height: int = 300) -> Chart | None:
    """Closes of the tested range (downsampled) with entry and exit markers of the trades."""
    if run.instance is None or run.first_bar is None:
        return None
    bars = bars_as_arrays(
        instrument_id=run.instance.instrument_id,
        timeframe=run.timeframe,
        start=run.first_bar.replace(second=0, microsecond=0) - _minutes(run.timeframe),
        end=run.last_bar,
    )
    times = bars.time.astype(np.int64).astype(np.float64)
    if not len(times):
        return None
    index = np.unique(np.linspace(0, len(times) - 1, min(len(times), PRICE_POINTS)).astype(np.int64))
    close = bars.close[index]
    trades = list(run.trades.order_by("-close_time")[:MAX_MARKERS])
    prices = [float(t.open_price) for t in trades] + [float(t.close_price) for t in trades]
    series = {"close": close, "trades": np.asarray(prices, dtype=np.float64)}
    left, right, top, bottom, y_min, y_max, x, y = _scale(times, series, width, height)
    markers = []
    for t in reversed(trades):
        markers.append(
            Marker(
                x(t.open_time.timestamp()),
                y(float(t.open_price)),
                t.side,
                f"#{t.ticket} {t.side} {t.units} @ {t.open_price} ({t.order_type})",
            )
        )
        markers.append(
            Marker(
                x(t.close_time.timestamp()),
                y(float(t.close_price)),
                "exit",
                f"#{t.ticket} exit @ {t.close_price} ({t.close_reason}) profit {t.profit}",
            )
        )
    return Chart(
        width,
        height,
        left,
        right,
        top,
        bottom,
        {"close": _points(times[index], close, x, y)},
        y_min,
        y_max,
        _dt(times[0]),
        _dt(times[-1]),
        markers,
    )


def statistics_rows(run: BacktestRun | WalkForward) -> list[tuple[str, str, object]]:
    """(MetaTrader name, key, value) for every stored statistic, in MT_NAMES order."""
    stats = run.statistics or {}
    rows = [(MT_NAMES[key], key, stats[key]) for key in MT_NAMES if key in stats]
    rows += [(key.replace("_", " ").capitalize(), key, value) for key, value in stats.items() if key not in MT_NAMES]
    return rows


def trades_csv(run: BacktestRun) -> str:
    """Every trade of the run, one CSV row each (times in UTC ISO 8601)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for t in run.trades.order_by("close_time", "ticket").iterator(chunk_size=2000):
        writer.writerow(
            [
                t.ticket,
                t.side,
                t.order_type,
                t.units,
                t.open_time.isoformat(),
                t.close_time.isoformat(),
                t.open_price,
                t.close_price,
                t.stop_loss if t.stop_loss is not None else "",
                t.take_profit if t.take_profit is not None else "",
                t.pl,
                t.commission,
                t.swap,
                t.profit,
                t.balance,
                t.close_reason,
            ]
        )
    return out.getvalue()


def report_context(run: BacktestRun, *, svg: bool = True) -> dict:
    """What the report shows; ``svg=False`` leaves out the inline charts (the dashboard draws zoomable ones)."""
    return {
        "run": run,
        "statistics": statistics_rows(run),
        "equity": equity_chart(run) if svg else None,
        "price": price_chart(run) if svg else None,
        "svg": svg,
        "trade_count": run.trades.count(),
    }


def _dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(int(seconds), tz=UTC)


def _minutes(n: int):
    from datetime import timedelta

    return timedelta(minutes=n)
