"""When bars open and close, and when the FX market is open.

Intraday bars (M1..H1) align to UTC boundaries. H4, D1, W1 and MN follow the FX trading day that rolls at
17:00 New York: a D1 bar opens at 17:00 New York (21:00 or 22:00 UTC with US DST), H4 bars open at
17, 21, 1, 5, 9, 13 New York, the week opens Sunday 17:00 New York and closes Friday 17:00 New York.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
ROLL_HOUR = 17
_INTRADAY_MAX = 60


def _require_aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError(f"{now!r} has no time zone; pass an aware UTC datetime")
    return now.astimezone(UTC)


def _ny_trading_day_start(now: datetime) -> datetime:
    """Start (17:00 New York, as UTC) of the FX trading day containing ``now``."""
    ny = now.astimezone(NEW_YORK)
    start = ny.replace(hour=ROLL_HOUR, minute=0, second=0, microsecond=0)
    if ny < start:
        start = (start - timedelta(days=1)).replace(hour=ROLL_HOUR)
        start = datetime(start.year, start.month, start.day, ROLL_HOUR, tzinfo=NEW_YORK)
    return start.astimezone(UTC)


def bar_open_time(moment: datetime, timeframe: int) -> datetime:
    """Open time (UTC) of the bar of ``timeframe`` minutes that contains ``moment``."""
    moment = _require_aware(moment)
    if timeframe <= _INTRADAY_MAX:
        epoch = int(moment.timestamp())
        return datetime.fromtimestamp(epoch - epoch % (timeframe * 60), tz=UTC)
    day_start = _ny_trading_day_start(moment)
    if timeframe == 240:
        hours = int((moment - day_start).total_seconds() // 3600)
        ny_start = day_start.astimezone(NEW_YORK)
        ny_open = ny_start.replace(tzinfo=None) + timedelta(hours=hours - hours % 4)
        return ny_open.replace(tzinfo=NEW_YORK).astimezone(UTC)
    if timeframe == 1440:
        return day_start
    if timeframe == 10080:
        ny_day = day_start.astimezone(NEW_YORK)
        # Trading days are named by the date they end on; the week's first day starts on Sunday.
        days_since_sunday = (ny_day.weekday() + 1) % 7
        start = ny_day.replace(tzinfo=None) - timedelta(days=days_since_sunday)
        return start.replace(tzinfo=NEW_YORK).astimezone(UTC)
    if timeframe == 43200:
        ny_day = (day_start + timedelta(hours=12)).astimezone(NEW_YORK)  # the calendar date the day ends on
        first = datetime(ny_day.year, ny_day.month, 1) - timedelta(days=1)  # noqa: DTZ001 (New York wall clock, zoned below)
        return datetime(first.year, first.month, first.day, ROLL_HOUR, tzinfo=NEW_YORK).astimezone(UTC)
    raise ValueError(f"timeframe {timeframe} minutes is not supported")


def bar_close_time(open_time: datetime, timeframe: int) -> datetime:
    """Close time (UTC) of the bar that opened at ``open_time``."""
    open_time = _require_aware(open_time)
    if timeframe <= _INTRADAY_MAX:
        return open_time + timedelta(minutes=timeframe)
    ny = open_time.astimezone(NEW_YORK).replace(tzinfo=None)
    if timeframe == 240:
        end = ny + timedelta(hours=4)
    elif timeframe == 1440:
        end = ny + timedelta(days=1)
    elif timeframe == 10080:
        end = ny + timedelta(days=5)
    elif timeframe == 43200:
        named = ny + timedelta(days=1)  # a monthly bar is named by the month of its first trading day
        month = named.month % 12 + 1
        year = named.year + (1 if month == 1 else 0)
        end = (datetime(year, month, 1) - timedelta(days=1)).replace(hour=ROLL_HOUR)  # noqa: DTZ001 (New York wall clock, zoned below)
    else:
        raise ValueError(f"timeframe {timeframe} minutes is not supported")
    return end.replace(tzinfo=NEW_YORK).astimezone(UTC)


def last_closed_bar_open(now: datetime, timeframe: int) -> datetime:
    """Open time of the newest bar of ``timeframe`` that has closed at ``now``."""
    current = bar_open_time(now, timeframe)
    previous = bar_open_time(current - timedelta(seconds=1), timeframe)
    return previous


def fx_market_open(moment: datetime) -> bool:
    """True between Sunday 17:00 and Friday 17:00 New York, except 25 December and 1 January."""
    ny = _require_aware(moment).astimezone(NEW_YORK)
    weekday = ny.weekday()  # Monday 0 .. Sunday 6
    if weekday == 5:
        return False
    if weekday == 4 and ny.hour >= ROLL_HOUR:
        return False
    if weekday == 6 and ny.hour < ROLL_HOUR:
        return False
    trading_date = (ny + timedelta(hours=24 - ROLL_HOUR)).date()  # the date this trading day ends on
    return (trading_date.month, trading_date.day) not in ((12, 25), (1, 1))
