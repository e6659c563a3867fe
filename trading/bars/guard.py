"""Data-quality guard for live runs: refuse to trade on stale bars, and say why.

"Stale" is measured in *market* time: the seconds between the close of the last complete bar and ``now``
during which the FX market was open. The market is closed from Friday 17:00 to Sunday 17:00 New York, and
on the trading days of 25 December and 1 January (the New York trading day that ends at 17:00 on that
date), so a Monday-morning check does not fail because Friday's last bar is old. The newest bar that has
closed must be there, give or take :func:`default_grace`, the time a feed may need to deliver it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from trading.bars.brokertime import NY_ROLL, trading_clock
from trading.bars.timeframes import bucket_end

DAY = 86400
_MAX_SCAN_DAYS = 40


class StaleDataError(Exception):
    """The newest complete bar is older than the timeframe allows; the run must not trade on it."""

    def __init__(
        self,
        message: str,
        *,
        instrument_id: int,
        timeframe: int,
        last_bar_time: datetime | None,
        market_age: timedelta | None,
        allowed: timedelta,
    ) -> None:
        super().__init__(message)
        self.instrument_id = instrument_id
        self.timeframe = timeframe
        self.last_bar_time = last_bar_time
        self.market_age = market_age
        self.allowed = allowed


def default_grace(timeframe: int) -> timedelta:
    """Delivery lag allowed after a bar closes: one minute for M1, at most five minutes otherwise."""
    return timedelta(minutes=min(max(1, timeframe), 5))


def is_market_day(trading_day: int) -> bool:
    """Whether a trading-clock day number (days since 1970-01-01 on the 17:00 NY clock) is a market day."""
    weekday = (trading_day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    if weekday >= 5:
        return False
    date = datetime.fromtimestamp(trading_day * DAY, tz=UTC)
    return (date.month, date.day) not in ((12, 25), (1, 1))


def market_seconds_between(start: datetime, end: datetime) -> int:
    """Seconds of open FX market between two UTC instants (capped after about 40 days)."""
    if end <= start:
        return 0
    t0, t1 = (int(x) for x in trading_clock(np.array([int(start.timestamp()), int(end.timestamp())]), NY_ROLL))
    total = 0
    day = t0 // DAY
    while day * DAY < t1 and day - t0 // DAY <= _MAX_SCAN_DAYS:
        if is_market_day(day):
            total += min(t1, (day + 1) * DAY) - max(t0, day * DAY)
        day += 1
    if day * DAY < t1:
        total += t1 - day * DAY  # beyond the scan: count everything, the data is stale anyway
    return total


def bars_check_fresh(
    *, instrument_id: int, timeframe: int, now: datetime, last_bar_time: datetime | None, grace: timedelta | None = None
) -> None:
    """Raise :class:`StaleDataError` unless the last complete bar is the newest one that has closed."""
    grace = default_grace(timeframe) if grace is None else grace
    allowed = timedelta(minutes=timeframe) + grace
    if last_bar_time is None:
        raise StaleDataError(
            f"no complete bars for instrument {instrument_id} timeframe {timeframe}m; nothing to trade on",
            instrument_id=instrument_id,
            timeframe=timeframe,
            last_bar_time=None,
            market_age=None,
            allowed=allowed,
        )
    closed_at = bucket_end(last_bar_time, timeframe)
    age = timedelta(seconds=market_seconds_between(closed_at, now))
    # The bar after the last one needs its own length of market time to close, then the delivery lag.
    next_length = timedelta(seconds=market_seconds_between(closed_at, bucket_end(closed_at, timeframe)))
    allowed = max(next_length, timedelta(minutes=min(timeframe, 1440))) + grace
    if age > allowed:
        raise StaleDataError(
            f"stale bars for instrument {instrument_id} timeframe {timeframe}m: the last complete bar opened at "
            f"{last_bar_time.astimezone(UTC):%Y-%m-%d %H:%M} UTC and closed {age} of market time before "
            f"{now.astimezone(UTC):%Y-%m-%d %H:%M} UTC; a newer bar should exist "
            f"(allowed: {allowed} of market time, one bar plus {grace} delivery lag)",
            instrument_id=instrument_id,
            timeframe=timeframe,
            last_bar_time=last_bar_time,
            market_age=age,
            allowed=allowed,
        )
