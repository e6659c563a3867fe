"""Deterministic candles in OANDA's shape (mid/bid/ask): fixed-step series for tests, and single candles."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from brokers.oanda.timefmt import format_rfc3339
from tests.support.fake_oanda.market_time import CLOCK_ALIGNED, DAY_ALIGNED

SECONDS = {**CLOCK_ALIGNED, **DAY_ALIGNED}


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
    out: list[dict[str, Any]] = []
    t = start
    i = 0
    while len(out) < count:
        if any(a <= t < b for a, b in gap_list):
            t += step
            continue
        out.append(candle_at(t, i, digits=digits, base=base, spread=spread))
        t += step
        i += 1
    if last_incomplete and out:
        out[-1]["complete"] = False
    return out


def candle_at(
    t: datetime, i: int, *, digits: int, base: Decimal, spread: Decimal, complete: bool = True
) -> dict[str, Any]:
    """One OANDA candle at ``t`` whose prices are a deterministic function of ``i`` around ``base``."""
    q = Decimal(1).scaleb(-digits)
    wobble = Decimal((i * 7919) % 401 - 200) * q
    o = base + wobble
    c = o + Decimal((i * 31) % 21 - 10) * q
    h = max(o, c) + Decimal(i % 7) * q
    low = min(o, c) - Decimal(i % 5) * q
    half = spread / 2

    def block(shift: Decimal) -> dict[str, str]:
        return {k: f"{(v + shift).quantize(q):f}" for k, v in (("o", o), ("h", h), ("l", low), ("c", c))}

    return {
        "time": format_rfc3339(t),
        "volume": 1 + (i * 13) % 97,
        "complete": complete,
        "mid": block(Decimal(0)),
        "bid": block(-half),
        "ask": block(half),
    }
