"""When bars open and close, and when the FX market is open.

Bar alignment has one rule set, in trading.bars.timeframes: intraday bars (M1..H1) on UTC boundaries;
H4, D1, W1 and MN on the FX trading day that rolls at 17:00 New York. This module adds what the
scheduler and the strategy run need on top: the newest bar that has closed, and market hours.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from trading.bars.timeframes import bucket_end, bucket_start

NEW_YORK = ZoneInfo("America/New_York")
ROLL_HOUR = 17


def bar_open_time(moment: datetime, timeframe: int) -> datetime:
    """Open time (UTC) of the bar of ``timeframe`` minutes that contains ``moment``."""
    return bucket_start(moment, timeframe)


def bar_close_time(open_time: datetime, timeframe: int) -> datetime:
    """Close time (UTC) of the bar that opened at ``open_time``."""
    return bucket_end(open_time, timeframe)


def last_closed_bar_open(now: datetime, timeframe: int) -> datetime:
    """Open time of the newest bar of ``timeframe`` that has closed at ``now`` (weekends stepped over)."""
    current = bucket_start(now, timeframe)
    probe = current - timedelta(seconds=1)
    for _ in range(10):  # a weekend maps to the coming Monday's bar: step back day by day past it
        previous = bucket_start(probe, timeframe)
        if previous < current:
            return previous
        probe -= timedelta(days=1)
    raise ValueError(f"no closed {timeframe}-minute bar found before {now:%Y-%m-%d %H:%M}")


def fx_market_open(moment: datetime) -> bool:
    """True between Sunday 17:00 and Friday 17:00 New York, except 25 December and 1 January."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone; pass an aware UTC datetime")
    ny = moment.astimezone(NEW_YORK)
    weekday = ny.weekday()  # Monday 0 .. Sunday 6
    if weekday == 5:
        return False
    if weekday == 4 and ny.hour >= ROLL_HOUR:
        return False
    if weekday == 6 and ny.hour < ROLL_HOUR:
        return False
    trading_date = (ny + timedelta(hours=24 - ROLL_HOUR)).date()  # the date this trading day ends on
    return (trading_date.month, trading_date.day) not in ((12, 25), (1, 1))
