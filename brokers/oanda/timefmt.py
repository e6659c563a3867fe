"""OANDA timestamps: RFC3339 with nanoseconds, or UNIX seconds as a string."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

_RFC3339 = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})T(?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d+))?(?P<tz>Z|[+-]\d{2}:\d{2})$"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_time(value: str | int | float) -> datetime:
    """Parse an OANDA time (RFC3339 with up to 9 fractional digits, or UNIX seconds) to aware UTC.

    Fractions beyond microseconds are truncated, never rounded, so ordering is preserved.
    """
    if isinstance(value, int | float):
        return _from_unix(Decimal(str(value)))
    text = value.strip()
    if len(text) == 30 and text[-1] == "Z" and text[19] == ".":
        # Fast path for OANDA's usual "2016-10-24T21:48:18.593753865Z" (candle backfills parse millions).
        try:
            return datetime.fromisoformat(f"{text[:26]}+00:00")
        except ValueError:
            pass
    m = _RFC3339.match(text)
    if m:
        frac = (m.group("frac") or "")[:6].ljust(6, "0")
        tz = m.group("tz")
        iso = f"{m.group('date')}T{m.group('time')}.{frac}{'+00:00' if tz == 'Z' else tz}"
        return datetime.fromisoformat(iso).astimezone(UTC)
    try:
        return _from_unix(Decimal(text))
    except ArithmeticError as e:  # decimal.InvalidOperation
        raise ValueError(f"not an OANDA time: {value!r}") from e


def _from_unix(seconds: Decimal) -> datetime:
    whole = int(seconds)
    micros = int((seconds - whole) * 1_000_000)  # truncates toward zero
    return _EPOCH + timedelta(seconds=whole, microseconds=micros)


def format_rfc3339(value: datetime) -> str:
    """Format an aware datetime the way OANDA does: UTC, 9 fractional digits, Z."""
    if value.tzinfo is None:
        raise ValueError("naive datetime; pass an aware UTC datetime")
    v = value.astimezone(UTC)
    return v.strftime("%Y-%m-%dT%H:%M:%S.") + f"{v.microsecond:06d}000Z"


def format_unix(value: datetime) -> str:
    """Format an aware datetime as OANDA's UNIX form: seconds with 9 decimals."""
    if value.tzinfo is None:
        raise ValueError("naive datetime; pass an aware UTC datetime")
    delta = value.astimezone(UTC) - _EPOCH
    micros = delta.days * 86_400_000_000 + delta.seconds * 1_000_000 + delta.microseconds
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}000"
