"""Paged candle backfill: 5,000 per request, complete bars only, in strictly increasing time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from brokers.oanda import parse
from brokers.oanda.http import OandaHttp
from brokers.oanda.schemas import Candle
from brokers.oanda.symbols import from_broker_symbol
from brokers.oanda.timefmt import format_rfc3339

MAX_PAGE = 5000
GRANULARITIES = frozenset("S5 S10 S15 S30 M1 M2 M4 M5 M10 M15 M30 H1 H2 H3 H4 H6 H8 H12 D W M".split())
DAY_ALIGNED = frozenset("H2 H3 H4 H6 H8 H12 D W M".split())  # cut by dailyAlignment in alignmentTimezone
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class CandleAlignment:
    """How OANDA cuts day-aligned candles (H2..H12, D, W, M); sent with every such request.

    The default is the platform's bar grid (``trading/bars/timeframes.py``): the FX day rolls at 17:00
    New York, so H4 bars open at 17, 21, 1, 5, 9 and 13 New York and a D1 bar at 17:00; the W1 bar opens
    at the Sunday 17:00 New York open. OANDA's own weekly default (Friday) would label each week with
    the Friday close before it, two days before our W1 bar's open time.
    """

    daily_alignment: int = 17
    alignment_timezone: str = "America/New_York"
    weekly_alignment: str = "Sunday"

    def __post_init__(self) -> None:
        if not 0 <= self.daily_alignment <= 23:
            raise ValueError(f"daily_alignment must be an hour 0..23; was {self.daily_alignment}")
        if self.weekly_alignment not in WEEKDAYS:
            raise ValueError(f"weekly_alignment must be one of {', '.join(WEEKDAYS)}; was {self.weekly_alignment!r}")

    def params(self, granularity: str) -> dict[str, str]:
        """The alignment query parameters for one granularity (none for minute and hour alignment)."""
        if granularity not in DAY_ALIGNED:
            return {}
        out = {"dailyAlignment": str(self.daily_alignment), "alignmentTimezone": self.alignment_timezone}
        if granularity == "W":
            out["weeklyAlignment"] = self.weekly_alignment
        return out


PLATFORM_ALIGNMENT = CandleAlignment()


def iter_candles(
    http: OandaHttp,
    *,
    instrument: str,
    granularity: str,
    start: datetime,
    end: datetime | None = None,
    price: str = "M",
    page_size: int = MAX_PAGE,
    account_path: str | None = None,
    alignment: CandleAlignment = PLATFORM_ALIGNMENT,
) -> Iterator[Candle]:
    """Yield complete candles of ``instrument`` with start time in [start, end), oldest first.

    Pages with ``from`` + ``count`` (OANDA refuses ``count`` with both ``from`` and ``to``) and
    ``includeFirst=false`` after the first page. Gaps (no ticks, weekends) stay gaps. Stops at the
    first incomplete candle, at ``end``, or when a page comes back short (we reached now).
    """
    # Reference: https://developer.oanda.com/rest-live-v20/instrument-ep/
    if granularity not in GRANULARITIES:
        raise ValueError(f"unknown granularity {granularity!r}")
    if not price or set(price) - {"M", "B", "A"}:
        raise ValueError(f"price must combine M, B and A; was {price!r}")
    if not 1 <= page_size <= MAX_PAGE:
        raise ValueError(f"page_size must be 1..{MAX_PAGE}; was {page_size}")
    if start.tzinfo is None or (end is not None and end.tzinfo is None):
        raise ValueError("start and end must be aware datetimes")
    base = account_path or "/v3"
    path = f"{base}/instruments/{instrument}/candles"
    symbol = from_broker_symbol(instrument)
    cursor = start
    include_first = True
    last: datetime | None = None
    while True:
        params = {
            "granularity": granularity,
            "price": price,
            "count": str(page_size),
            "from": format_rfc3339(cursor),
            "includeFirst": "true" if include_first else "false",
            **alignment.params(granularity),
        }
        raws = http.request("GET", path, params=params).body.get("candles") or []
        page_last: datetime | None = None
        for raw in raws:
            bar = parse.candle(raw, symbol, granularity)
            page_last = bar.time
            if last is not None and bar.time <= last:
                continue  # a duplicate or an out-of-order bar: never yield it twice
            if end is not None and bar.time >= end:
                return
            if not bar.complete:
                return
            yield bar
            last = bar.time
        if len(raws) < page_size or page_last is None or page_last <= cursor:
            return
        cursor = page_last
        include_first = False
