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

import numpy as np
from django.db import transaction

from trading.bars.store import bars_upsert
from trading.bars.timeframes import BAR_DTYPE, bars_derive, bucket_start
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


DERIVED_TIMEFRAMES = (Timeframe.M5, Timeframe.M15, Timeframe.H1)


def feed_ensure(instrument: Instrument, until: datetime) -> int:
    """Create the simulated M1 bars that closed by ``until`` (and M5/M15/H1 from them); returns M1 bars added."""
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
        start = max(last[0] + timedelta(minutes=1), last_closed_open - MAX_FILL)
        prev_close = float(instrument.from_points(last[1]))
    rows = []
    t = start
    digits = instrument.digits
    while t <= last_closed_open:
        if instrument.always_open or fx_market_open(t):
            o, h, lo, c, v = _next_bar(instrument.symbol, int(t.timestamp()) // 60, prev_close)
            op, hp, lp, cp = (_to_points(x, digits) for x in (o, h, lo, c))
            rows.append(
                (int(t.timestamp()), op, max(hp, op, cp), min(lp, op, cp), cp, v, instrument.spread_points, True)
            )
            prev_close = cp / 10**digits
        t += timedelta(minutes=1)
    if not rows:
        return 0
    with transaction.atomic():
        bars_upsert(instrument_id=instrument.pk, timeframe=Timeframe.M1, bars=np.array(rows, dtype=BAR_DTYPE))
        _derive(instrument, first_new=datetime.fromtimestamp(rows[0][0], tz=UTC), until=until)
    return len(rows)


def _derive(instrument: Instrument, *, first_new: datetime, until: datetime) -> None:
    since = bucket_start(first_new, max(DERIVED_TIMEFRAMES))
    source = np.array(
        list(
            Bar.objects.filter(instrument=instrument, timeframe=Timeframe.M1, time__gte=since)
            .order_by("time")
            .values_list("time", "open", "high", "low", "close", "volume", "spread", "complete")
        ),
        dtype=object,
    )
    array = np.empty(len(source), dtype=BAR_DTYPE)
    for i, (t, o, h, lo, c, v, sp, done) in enumerate(source):
        array[i] = (int(t.timestamp()), o, h, lo, c, v, -1 if sp is None else sp, done)
    for timeframe in DERIVED_TIMEFRAMES:
        derived = bars_derive(array, source_timeframe=Timeframe.M1, timeframe=timeframe, complete_through=until)
        bars_upsert(instrument_id=instrument.pk, timeframe=timeframe, bars=derived)


def feed_ensure_all(until: datetime | None = None) -> int:
    until = until or datetime.now(tz=UTC)
    return sum(feed_ensure(i, until) for i in Instrument.objects.filter(simulated=True))
