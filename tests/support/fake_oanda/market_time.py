"""When the fake's FX market is open, and how OANDA cuts candles of each granularity.

OANDA's rules (instrument-df, CandlestickGranularity; instrument-ep, candles): S5..M1 align to the minute,
M2..H1 to the hour, H2..D to the day, which starts at ``dailyAlignment`` o'clock (default 17) in
``alignmentTimezone`` (default America/New_York); W starts on ``weeklyAlignment`` (default Friday) at that
hour; M on the first day of the month at that hour. Returned times are UTC. The market is closed from
Friday 17:00 to Sunday 17:00 New York, and a period without ticks has no candle.

Written apart from ``trading/bars``, so tests compare two independent readings of the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tests.support.fake_oanda.common import Reply

NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
CLOCK_ALIGNED = {  # minute and hour alignment: both are multiples of UTC epoch seconds here
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
}
DAY_ALIGNED = {"H2": 7200, "H3": 10800, "H4": 14400, "H6": 21600, "H8": 28800, "H12": 43200, "D": 86400}
GRANULARITIES = frozenset({*CLOCK_ALIGNED, *DAY_ALIGNED, "W", "M"})
NOMINAL_SECONDS = {**CLOCK_ALIGNED, **DAY_ALIGNED, "W": 7 * 86400, "M": 31 * 86400}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Alignment:
    daily: int = 17
    zone: ZoneInfo = NEW_YORK
    weekly: int = 4  # Friday, OANDA's default

    @classmethod
    def from_params(cls, params: dict[str, str]) -> Alignment:
        """The request's alignment, refused with 400 like OANDA when a value is invalid."""
        try:
            daily = int(params.get("dailyAlignment", "17"))
        except ValueError:
            daily = -1
        if not 0 <= daily <= 23:
            raise Reply(400, {"errorMessage": "Invalid value specified for 'dailyAlignment'"})
        try:
            zone = ZoneInfo(params.get("alignmentTimezone", "America/New_York"))
        except (ZoneInfoNotFoundError, ValueError):
            raise Reply(400, {"errorMessage": "Invalid value specified for 'alignmentTimezone'"}) from None
        weekly = params.get("weeklyAlignment", "Friday")
        if weekly not in WEEKDAYS:
            raise Reply(400, {"errorMessage": "Invalid value specified for 'weeklyAlignment'"})
        return cls(daily=daily, zone=zone, weekly=WEEKDAYS.index(weekly))

    def _at(self, day: date) -> datetime:
        return datetime.combine(day, time(self.daily), tzinfo=self.zone).astimezone(UTC)

    def day_start(self, t: datetime) -> datetime:
        """Start of the (alignment) day that contains ``t``."""
        local_day = t.astimezone(self.zone).date()
        start = self._at(local_day)
        return start if start <= t else self._at(local_day - timedelta(days=1))

    def bucket(self, t: datetime, granularity: str) -> tuple[datetime, datetime]:
        """(start, end) in UTC of the ``granularity`` candle that contains ``t``."""
        if granularity in CLOCK_ALIGNED:
            step = CLOCK_ALIGNED[granularity]
            seconds = int((t - _EPOCH).total_seconds()) // step * step
            start = _EPOCH + timedelta(seconds=seconds)
            return start, start + timedelta(seconds=step)
        day = self.day_start(t)
        local_day = day.astimezone(self.zone).date()
        if granularity in DAY_ALIGNED:
            next_day = self._at(local_day + timedelta(days=1))
            length = timedelta(seconds=DAY_ALIGNED[granularity])
            start = day + (t - day) // length * length
            return start, min(start + length, next_day)
        if granularity == "W":
            monday_based = (local_day.weekday() - self.weekly) % 7
            first = local_day - timedelta(days=monday_based)
            return self._at(first), self._at(first + timedelta(days=7))
        if granularity == "M":
            first = self._at(local_day.replace(day=1))
            if first > t:
                first = self._at((local_day.replace(day=1) - timedelta(days=1)).replace(day=1))
            month = first.astimezone(self.zone).date()
            following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
            return first, self._at(following)
        raise Reply(400, {"errorMessage": "Invalid value specified for 'granularity'"})


def market_open(t: datetime) -> bool:
    """FX trades from Sunday 17:00 to Friday 17:00 New York."""
    local = t.astimezone(NEW_YORK)
    weekday, hour = local.weekday(), local.hour
    return not (weekday == 5 or (weekday == 4 and hour >= 17) or (weekday == 6 and hour < 17))


def first_open(t: datetime) -> datetime:
    """``t`` if the market is open then, else the next Sunday 17:00 New York."""
    if market_open(t):
        return t
    local = t.astimezone(NEW_YORK)
    sunday = local.date() + timedelta(days=(6 - local.weekday()) % 7)
    return datetime.combine(sunday, time(17), tzinfo=NEW_YORK).astimezone(UTC)
