"""Geometry for the server-rendered SVG equity chart (the template draws it; no JavaScript, no CDN)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from trading.selectors.accounts import EquityPoint


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    equity_points: str
    balance_points: str
    y_min: Decimal
    y_max: Decimal
    start: datetime
    end: datetime
    last_equity: Decimal
    count: int


def equity_chart(series: list[EquityPoint], *, width: int = 640, height: int = 200) -> LineChart | None:
    """Scale equity and balance onto an SVG canvas; ``None`` when there is nothing to draw."""
    if not series:
        return None
    left, right, top, bottom = 70, width - 10, 10, height - 24
    values = [p.equity for p in series] + [p.balance for p in series]
    y_min, y_max = min(values), max(values)
    if y_min == y_max:
        y_min, y_max = y_min - 1, y_max + 1
    t0, t1 = series[0].time.timestamp(), series[-1].time.timestamp()
    span = (t1 - t0) or 1.0

    def x(p: EquityPoint) -> float:
        # A single snapshot is drawn as a flat line across the chart.
        return left + (right - left) * ((p.time.timestamp() - t0) / span if len(series) > 1 else 0.0)

    def y(value: Decimal) -> float:
        return bottom - (bottom - top) * float((value - y_min) / (y_max - y_min))

    def line(field: str) -> str:
        points = [(x(p), y(getattr(p, field))) for p in series]
        if len(points) == 1:
            points.append((right, points[0][1]))
        return " ".join(f"{px:.1f},{py:.1f}" for px, py in points)

    return LineChart(
        width=width,
        height=height,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        equity_points=line("equity"),
        balance_points=line("balance"),
        y_min=y_min,
        y_max=y_max,
        start=series[0].time,
        end=series[-1].time,
        last_equity=series[-1].equity,
        count=len(series),
    )
