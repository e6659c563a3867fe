"""Deterministic synthetic candles for the fake server (OANDA shape, mid/bid/ask)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from brokers.oanda.timefmt import format_rfc3339

SECONDS = {
    "S5": 5,
    "S10": 10,
    "S15": 15,
    "S30": 30,
    "M1": 60,
    "M2": 120,
    "M4": 240,
    "M5": 300,
    "M10": 600,
    "M15": 900,
    "M30": 1800,
    "H1": 3600,
    "H2": 7200,
    "H3": 10800,
    "H4": 14400,
    "H6": 21600,
    "H8": 28800,
    "H12": 43200,
    "D": 86400,
}


def make_candles(
    *,
    start: datetime,
    count: int,
    granularity: str = "M1",
    digits: int = 5,
    base: Decimal = Decimal("1.10000"),
    spread: Decimal = Decimal("0.00010"),
    gaps: Iterable[tuple[datetime, datetime]] = (),
    last_incomplete: bool = False,
) -> list[dict[str, Any]]:
    """``count`` candles from ``start`` every granularity step, skipping times inside any gap [a, b)."""
    step = timedelta(seconds=SECONDS[granularity])
    gap_list = list(gaps)
    q = Decimal(1).scaleb(-digits)
    out: list[dict[str, Any]] = []
    t = start
    i = 0
    while len(out) < count:
        if any(a <= t < b for a, b in gap_list):
            t += step
            continue
        wobble = Decimal((i * 7919) % 401 - 200) * q
        o = base + wobble
        c = o + Decimal((i * 31) % 21 - 10) * q
        h = max(o, c) + Decimal(i % 7) * q
        low = min(o, c) - Decimal(i % 5) * q
        half = spread / 2

        def block(shift: Decimal, o=o, h=h, low=low, c=c) -> dict[str, str]:
            return {k: f"{(v + shift).quantize(q):f}" for k, v in (("o", o), ("h", h), ("l", low), ("c", c))}

        out.append(
            {
                "time": format_rfc3339(t),
                "volume": 1 + (i * 13) % 97,
                "complete": True,
                "mid": block(Decimal(0)),
                "bid": block(-half),
                "ask": block(half),
            }
        )
        t += step
        i += 1
    if last_incomplete and out:
        out[-1]["complete"] = False
    return out
