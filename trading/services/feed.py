"""The simulated live feed for demo instruments: M1 bars in real time, deterministic, no server.

Every bar is derived from (symbol, minute) alone: its log return comes from a hash of both, so any
process that needs the bar for a minute produces the same one, and filling in missing minutes is
idempotent. Prices follow a random walk with intraday volatility of a major FX pair; weekends and
the 25 Dec / 1 Jan holidays have no bars.
"""

from __future__ import annotations

import hashlib
import math
import struct
from datetime import UTC, datetime, timedelta

from django.db import transaction

from trading.bars.cache import bars_cache_invalidate
from trading.models import Bar, Instrument, Timeframe
from trading.services.bar_clock import bar_open_time, fx_market_open

SEED_HISTORY = timedelta(days=2)
MAX_FILL = timedelta(days=10)
_SIGMA = 0.00025  # per-minute log-return standard deviation (≈ 0.6 % a day)
_START_PRICES = {"EURUSD": 1.08, "GBPUSD": 1.27, "USDJPY": 150.0, "AUDUSD": 0.66, "USDCHF": 0.88, "XAUUSD": 2300.0}


def _uniforms(symbol: str, minute: int) -> tuple[float, float, float, float]:
    digest = hashlib.blake2b(f"{symbol}:{minute}".encode(), digest_size=16).digest()
    a, b, c, d = struct.unpack("<4I", digest)
    scale = 1.0 / 4294967296.0
    return (a + 0.5) * scale, (b + 0.5) * scale, (c + 0.5) * scale, (d + 0.5) * scale


def _next_bar(symbol: str, minute: int, prev_close: float) -> tuple[float, float, float, float, int]:
    u1, u2, u3, u4 = _uniforms(symbol, minute)
    z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
    close = prev_close * math.exp(_SIGMA * z)
    open_ = prev_close
    wiggle = prev_close * _SIGMA
    high = max(open_, close) + wiggle * u3
    low = min(open_, close) - wiggle * u4
    volume = 20 + int(80 * u3)
    return open_, high, low, close, volume


def _to_points(value: float, digits: int) -> int:
    return int(round(value * 10**digits))


@transaction.atomic
def feed_ensure(instrument: Instrument, until: datetime) -> int:
    """Create the simulated M1 bars that closed by ``until``; returns how many were added."""
    if not instrument.simulated:
        return 0
    last_closed_open = bar_open_time(until, Timeframe.M1) - timedelta(minutes=1)
    last = (
        Bar.objects.filter(instrument=instrument, timeframe=Timeframe.M1)
        .order_by("-time")
        .values_list("time", "close")
        .first()
    )
    if last is None:
        start = last_closed_open - SEED_HISTORY
        prev_close = _START_PRICES.get(instrument.symbol, 1.0)
    else:
        start = last[0] + timedelta(minutes=1)
        prev_close = instrument.from_points(last[1])
        prev_close = float(prev_close)
        start = max(start, last_closed_open - MAX_FILL)
    bars = []
    t = start
    digits = instrument.digits
    while t <= last_closed_open:
        if fx_market_open(t):
            o, h, lo, c, v = _next_bar(instrument.symbol, int(t.timestamp()) // 60, prev_close)
            op, hp, lp, cp = (_to_points(x, digits) for x in (o, h, lo, c))
            hp, lp = max(hp, op, cp), min(lp, op, cp)
            bars.append(Bar(instrument=instrument, timeframe=Timeframe.M1, time=t, open=op, high=hp, low=lp,
                            close=cp, volume=v, spread=instrument.spread_points, complete=True))
            prev_close = cp / 10**digits
        t += timedelta(minutes=1)
    if bars:
        Bar.objects.bulk_create(bars, ignore_conflicts=True, batch_size=2000)
        bars_cache_invalidate(instrument_id=instrument.pk, timeframe=Timeframe.M1)
    return len(bars)


def feed_ensure_all(until: datetime | None = None) -> int:
    until = until or datetime.now(tz=UTC)
    return sum(feed_ensure(i, until) for i in Instrument.objects.filter(simulated=True))
