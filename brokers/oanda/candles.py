"""Paged candle backfill: 5,000 per request, complete bars only, in strictly increasing time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from brokers.oanda import parse
from brokers.oanda.http import OandaHttp
from brokers.oanda.schemas import Candle
from brokers.oanda.symbols import from_broker_symbol
from brokers.oanda.timefmt import format_rfc3339

MAX_PAGE = 5000
GRANULARITIES = frozenset("S5 S10 S15 S30 M1 M2 M4 M5 M10 M15 M30 H1 H2 H3 H4 H6 H8 H12 D W M".split())


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
