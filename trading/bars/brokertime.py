"""Broker time zones and the one place where UTC becomes framework time.

The platform keeps every time in UTC. The C framework (``CRates.time``, ``pInCurrentBrokerTime``) takes
32-bit seconds since 1970 of the *broker's wall clock*, encoded as if it were UTC (the MetaTrader
convention, see research/asirikuy-abi.md §2.6). :func:`framework_time` and :func:`framework_times` are the
only conversions from UTC to that encoding; they refuse instants that do not fit in an int32
(:class:`Year2038Error`).

A :class:`BrokerTimezone` is "the wall clock of IANA zone ``zone`` plus ``shift``". It also carries
``day_shift``: what to add to the broker's wall clock to get its *trading clock*, on which a trading day
starts at 00:00 (see ``trading/bars/README.md``). For the 17:00 New York roll the trading clock is
New York time + 7 h, which is exactly the clock of a GMT+2/+3 broker that follows US daylight saving.

Converting a wall-clock time back to UTC is ambiguous in the hour a zone falls back; the earlier instant
is chosen. Both US and EU changes happen on a Sunday before the FX market opens, so no bar is affected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Year2038Error(ValueError):
    """A time does not fit the framework ABI (int32 seconds); callers must not run the framework with it."""


class UnknownBrokerTimezone(KeyError):
    """A broker time-zone name that is not in :data:`BROKER_TIMEZONES`."""


@dataclass(frozen=True)
class BrokerTimezone:
    """Wall clock of a broker: IANA ``zone`` (with its DST rules) plus a fixed ``shift``."""

    name: str
    zone: str
    shift: timedelta = timedelta(0)
    day_shift: timedelta = timedelta(0)
    description: str = ""

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def utcoffset(self, utc: datetime) -> timedelta:
        """Offset of the broker's wall clock from UTC at instant ``utc``."""
        offset = _require_aware(utc).astimezone(self.tzinfo).utcoffset()
        assert offset is not None  # an aware time always has one
        return offset + self.shift

    def to_wall(self, utc: datetime) -> datetime:
        """Aware UTC instant → naive broker wall-clock datetime."""
        return (_require_aware(utc).astimezone(UTC) + self.utcoffset(utc)).replace(tzinfo=None)

    def from_wall(self, wall: datetime) -> datetime:
        """Naive broker wall-clock datetime → aware UTC (earlier instant when ambiguous)."""
        local = (wall - self.shift).replace(tzinfo=self.tzinfo, fold=0)
        return local.astimezone(UTC)


BROKER_TIMEZONES: dict[str, BrokerTimezone] = {
    tz.name: tz
    for tz in (
        BrokerTimezone("UTC", "UTC", description="UTC wall clock; trading day from 00:00 UTC"),
        BrokerTimezone(
            "OANDA",
            "America/New_York",
            day_shift=timedelta(hours=7),
            description="New York wall clock (US DST); trading day from 17:00 New York",
        ),
        BrokerTimezone(
            "MT_GMT2_US_DST",
            "America/New_York",
            shift=timedelta(hours=7),
            description="MetaTrader-style GMT+2 winter / GMT+3 summer on US DST dates; day from 00:00 server time",
        ),
        BrokerTimezone(
            "HISTDATA_EST",
            "Etc/GMT+5",
            description="Fixed UTC-5 all year (EST without daylight saving), the clock of HistData.com files",
        ),
        BrokerTimezone(
            "MT_GMT2_EU_DST",
            "Europe/Helsinki",
            description="MetaTrader-style GMT+2 winter / GMT+3 summer on EU DST dates; day from 00:00 server time",
        ),
    )
}

# The 17:00 New York roll: the default alignment of H4, D1, W1 and MN bars.
NY_ROLL = "OANDA"


def broker_timezone(name: str) -> BrokerTimezone:
    """Look up a broker time zone by name, with a clear error listing the known ones."""
    try:
        return BROKER_TIMEZONES[name]
    except KeyError:
        raise UnknownBrokerTimezone(
            f"unknown broker time zone {name!r}; known: {', '.join(sorted(BROKER_TIMEZONES))}"
        ) from None


def _require_aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{value!r} is a naive datetime; the platform only takes aware UTC datetimes")
    return value


def framework_time(utc: datetime, broker_tz: str = "UTC") -> int:
    """Aware UTC datetime → broker wall-clock epoch seconds as the framework ABI takes them (int32)."""
    tz = broker_timezone(broker_tz)
    wall = tz.to_wall(utc)
    seconds = (wall - _EPOCH.replace(tzinfo=None)) // timedelta(seconds=1)
    if not INT32_MIN <= seconds <= INT32_MAX:
        raise Year2038Error(
            f"{utc.isoformat()} is {wall.isoformat()} on the {broker_tz} clock, outside the framework ABI's "
            f"int32 seconds (1901-12-13 .. 2038-01-19 03:14:07); the framework cannot run on it"
        )
    return int(seconds)


def from_framework_time(value: int, broker_tz: str = "UTC") -> datetime:
    """Broker wall-clock epoch seconds (framework time) → aware UTC datetime."""
    tz = broker_timezone(broker_tz)
    return tz.from_wall(_EPOCH.replace(tzinfo=None) + timedelta(seconds=int(value)))


@lru_cache(maxsize=256)
def _year_offsets(zone: str, year: int) -> tuple[np.ndarray, np.ndarray]:
    """UTC epoch seconds at which ``zone``'s offset changes in ``year`` (plus Jan 1), and the offsets."""
    tzinfo = ZoneInfo(zone)

    def offset(epoch: int) -> int:
        offset = datetime.fromtimestamp(epoch, tz=tzinfo).utcoffset()
        assert offset is not None  # an aware time always has one
        return int(offset.total_seconds())

    start = int(datetime(year, 1, 1, tzinfo=UTC).timestamp())
    end = int(datetime(year + 1, 1, 1, tzinfo=UTC).timestamp())
    starts, values = [start], [offset(start)]
    day = 86400
    for t in range(start + day, end + day, day):
        t = min(t, end)
        if offset(t) != values[-1]:
            lo, hi = t - day, t  # offset(lo) == values[-1] != offset(hi)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset(mid) == values[-1]:
                    lo = mid
                else:
                    hi = mid
            if hi < end:
                starts.append(hi)
                values.append(offset(hi))
    return np.asarray(starts, dtype=np.int64), np.asarray(values, dtype=np.int64)


def wall_offsets(utc_seconds: np.ndarray, broker_tz: str = "UTC") -> np.ndarray:
    """Vectorised :meth:`BrokerTimezone.utcoffset` in seconds for an int64 array of UTC epoch seconds."""
    tz = broker_timezone(broker_tz)
    shift = int(tz.shift.total_seconds())
    utc_seconds = np.asarray(utc_seconds, dtype=np.int64)
    if tz.zone == "UTC" or utc_seconds.size == 0:
        return np.full(utc_seconds.shape, shift, dtype=np.int64)
    first = datetime.fromtimestamp(int(utc_seconds.min()), tz=UTC).year
    last = datetime.fromtimestamp(int(utc_seconds.max()), tz=UTC).year
    parts = [_year_offsets(tz.zone, year) for year in range(first, last + 1)]
    starts = np.concatenate([p[0] for p in parts])
    values = np.concatenate([p[1] for p in parts])
    index = np.searchsorted(starts, utc_seconds, side="right") - 1
    return values[np.clip(index, 0, None)] + shift


def framework_times(utc_seconds: np.ndarray, broker_tz: str = "UTC") -> np.ndarray:
    """Vectorised :func:`framework_time`: int64 UTC epoch seconds → int32 broker wall-clock seconds."""
    utc_seconds = np.asarray(utc_seconds, dtype=np.int64)
    wall = utc_seconds + wall_offsets(utc_seconds, broker_tz)
    if wall.size and (wall.max() > INT32_MAX or wall.min() < INT32_MIN):
        bad = int(utc_seconds[np.argmax((wall > INT32_MAX) | (wall < INT32_MIN))])
        framework_time(datetime.fromtimestamp(bad, tz=UTC), broker_tz)  # raises with the standard message
    return wall.astype(np.int32)


def utc_from_wall_seconds(wall_seconds: np.ndarray, broker_tz: str = "UTC") -> np.ndarray:
    """Vectorised inverse of :func:`wall_offsets`: broker wall-clock epoch seconds → UTC epoch seconds."""
    wall_seconds = np.asarray(wall_seconds, dtype=np.int64)
    guess = wall_seconds - wall_offsets(wall_seconds, broker_tz)
    utc = wall_seconds - wall_offsets(guess, broker_tz)
    return wall_seconds - wall_offsets(utc, broker_tz)


def trading_clock(utc_seconds: np.ndarray, align_tz: str = NY_ROLL) -> np.ndarray:
    """UTC epoch seconds → seconds on ``align_tz``'s trading clock, on which each trading day starts at 00:00."""
    tz = broker_timezone(align_tz)
    utc_seconds = np.asarray(utc_seconds, dtype=np.int64)
    return utc_seconds + wall_offsets(utc_seconds, align_tz) + int(tz.day_shift.total_seconds())


def from_trading_clock(seconds: int, align_tz: str = NY_ROLL) -> int:
    """Trading-clock seconds of ``align_tz`` → UTC epoch seconds (earlier instant when ambiguous)."""
    tz = broker_timezone(align_tz)
    wall = _EPOCH.replace(tzinfo=None) + timedelta(seconds=int(seconds)) - tz.day_shift
    return int(tz.from_wall(wall).timestamp())
