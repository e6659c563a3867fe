"""Bars from OANDA candles: backfill any range, keep a series current, and the gap-fill source.

Candles are bid prices (as MetaTrader bars are) with the spread of the close taken from the ask side, in
integer points of the instrument. Only complete candles are stored, so a strategy never runs on a
forming bar; ``bars_keep_current`` is what a bar-close task calls, and the strategy run waits (bounded,
``BAR_WAIT_SECONDS``) for the bar it expects.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from brokers.oanda import Candle
from trading.bars.gaps import BarSource, BarSourceMissing
from trading.bars.store import BarRow, bars_upsert
from trading.models import Bar, Broker, BrokerAccount, Instrument, Timeframe

GRANULARITY = {
    Timeframe.M1: "M1",
    Timeframe.M5: "M5",
    Timeframe.M15: "M15",
    Timeframe.M30: "M30",
    Timeframe.H1: "H1",
    Timeframe.H4: "H4",
    Timeframe.D1: "D",
    Timeframe.W1: "W",
    Timeframe.MN: "M",
}
CHUNK = 20_000  # bars per upsert: bounded memory for an all-history backfill
EARLIEST = datetime(2005, 1, 1, tzinfo=UTC)  # OANDA's FX history starts around here


@dataclass(frozen=True)
class BackfillReport:
    fetched: int
    inserted: int
    updated: int
    first: datetime | None
    last: datetime | None


def granularity_of(timeframe: int) -> str:
    try:
        return GRANULARITY[Timeframe(timeframe)]
    except (KeyError, ValueError):
        raise ValueError(f"timeframe {timeframe} has no OANDA granularity") from None


def data_account() -> BrokerAccount:
    """The OANDA account whose token reads candles: the first enabled one that has a token."""
    account = (
        BrokerAccount.objects.filter(broker=Broker.OANDA, enabled=True)
        .exclude(token_encrypted="")
        .order_by("environment", "id")
        .first()
    )
    if account is None:
        raise BarSourceMissing(
            "no data source configured for broker 'oanda': add an enabled OANDA account with an API token first"
        )
    return account


def _rows(candles: Iterable[Candle], instrument: Instrument) -> Iterator[BarRow]:
    scale = 10**instrument.digits
    for c in candles:
        side = c.bid or c.mid
        if side is None:
            raise ValueError(f"OANDA candle at {c.time:%Y-%m-%d %H:%M} has neither bid nor mid prices")
        spread = None
        if c.bid is not None and c.ask is not None:
            spread = int(round((c.ask.c - c.bid.c) * scale))
        yield BarRow(
            time=c.time,
            open=int(side.o * scale),
            high=int(side.h * scale),
            low=int(side.l * scale),
            close=int(side.c * scale),
            volume=c.volume,
            spread=spread,
            complete=True,
        )


def oanda_bar_source(account: BrokerAccount | None = None) -> BarSource:
    """A ``trading.bars.gaps`` source: complete bars in [start, end) from OANDA's candles."""
    from trading.venues.oanda.client import oanda_client

    client = oanda_client(account or data_account())

    def source(instrument: Instrument, timeframe: int, start: datetime, end: datetime) -> Iterator[BarRow]:
        candles = client.iter_candles(
            instrument.symbol,
            granularity_of(timeframe),
            start,
            end,
            price="BA",
        )
        return _rows(candles, instrument)

    return source


def oanda_backfill(
    *,
    instrument: Instrument,
    timeframe: int,
    start: datetime | None = None,
    end: datetime | None = None,
    account: BrokerAccount | None = None,
) -> BackfillReport:
    """Store every complete candle in [start, end) (default: all history up to now), in chunks."""
    source = oanda_bar_source(account)
    fetched = inserted = updated = 0
    first = last = None
    chunk: list[BarRow] = []

    def flush() -> None:
        nonlocal inserted, updated
        report = bars_upsert(instrument_id=instrument.pk, timeframe=timeframe, bars=chunk)
        inserted += report.inserted
        updated += report.updated
        chunk.clear()

    for row in source(instrument, timeframe, start or EARLIEST, end or datetime.now(UTC)):
        first = first or row.time
        last = row.time
        fetched += 1
        chunk.append(row)
        if len(chunk) >= CHUNK:
            flush()
    if chunk:
        flush()
    return BackfillReport(fetched=fetched, inserted=inserted, updated=updated, first=first, last=last)


def bars_keep_current(
    *, instrument: Instrument, timeframe: int, account: BrokerAccount | None = None, lookback: int = 3
) -> BackfillReport:
    """Fetch the candles since the newest stored bar (re-reading ``lookback`` bars in case they changed)."""
    newest = (
        Bar.objects.filter(instrument=instrument, timeframe=timeframe, complete=True)
        .order_by("-time")
        .values_list("time", flat=True)
        .first()
    )
    start = (
        (newest - timedelta(minutes=timeframe * lookback))
        if newest
        else datetime.now(UTC) - timedelta(minutes=timeframe * 5000)
    )
    return oanda_backfill(instrument=instrument, timeframe=timeframe, start=start, account=account)


def bars_await_close(
    *, instrument: Instrument, timeframe: int, now: datetime | None = None, timeout: float = 60.0, poll: float = 2.0
) -> datetime | None:
    """At a bar close: fetch until the bar that just closed is stored complete, or ``timeout`` passes.

    OANDA marks a candle complete only once the next period's first tick arrives (seconds, sometimes
    ~45 s late), so one fetch at the close is often too early. Returns the newest stored bar's open time.
    """
    import time

    from trading.services.bar_clock import last_closed_bar_open

    expected = last_closed_bar_open(now or datetime.now(UTC), timeframe)
    deadline = time.monotonic() + timeout
    while True:
        report = bars_keep_current(instrument=instrument, timeframe=timeframe)
        if report.last is not None and report.last >= expected:
            return report.last
        if time.monotonic() + poll > deadline:
            return report.last
        time.sleep(poll)
