"""Bars from cTrader trend bars: backfill any range, keep a series current, and the gap-fill source.

Trend bars are bid prices (as MetaTrader bars are) and carry no spread. Intraday timeframes (M1 to H1) are UTC
aligned at cTrader as here and are taken as they come. H4, D1, W1 and MN are not: a cTrader broker's day starts
on its own server clock, so those are derived here from H1 trend bars with the platform's FX-time rules
(``trading.bars.timeframes``: the 17:00 New York roll, Sunday merged into Monday, no Saturday), exactly as
derived bars of every other source are. Only complete bars are stored: a bar whose close is after ``end`` (or
now) is left out, so a strategy never runs on a forming bar.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np

from brokers.ctrader.history import Trendbar, trendbars
from trading.bars.gaps import BarSource, BarSourceMissing
from trading.bars.store import BarRow, bars_upsert
from trading.bars.timeframes import BAR_DTYPE, INTRADAY_MAX, bars_derive, bucket_start
from trading.models import Bar, Broker, BrokerAccount, Instrument, StrategyInstance
from trading.queues import Queue
from trading.services.periodic import PeriodicJob
from trading.venues.ctrader.client import ctrader_client

EARLIEST = datetime(2010, 1, 1, tzinfo=UTC)


def data_account() -> BrokerAccount:
    """The cTrader account whose tokens read bars: the first enabled one that has a token."""
    account = (
        BrokerAccount.objects.filter(broker=Broker.CTRADER, enabled=True)
        .exclude(token_encrypted="")
        .order_by("environment", "id")
        .first()
    )
    if account is None:
        raise BarSourceMissing(
            "no data source configured for broker 'ctrader': add an enabled cTrader account with its tokens first"
        )
    return account


def _points(bars: list[Trendbar], instrument: Instrument) -> np.ndarray:
    out = np.zeros(len(bars), dtype=BAR_DTYPE)
    for i, b in enumerate(bars):
        out[i] = (
            int(b.time.timestamp()),
            instrument.to_points(b.open),
            instrument.to_points(b.high),
            instrument.to_points(b.low),
            instrument.to_points(b.close),
            b.volume,
            -1,
            True,
        )
    return out


def ctrader_bar_source(account: BrokerAccount | None = None) -> BarSource:
    """A ``trading.bars.gaps`` source: complete bars with open time in [start, end)."""
    client = ctrader_client(account or data_account())

    def source(instrument: Instrument, timeframe: int, start: datetime, end: datetime) -> Iterator[BarRow]:
        end = min(end, datetime.now(UTC))
        if timeframe <= INTRADAY_MAX:
            raw = _points(trendbars(client, instrument.symbol, timeframe, start, end), instrument)
            raw = raw[raw["time"] + timeframe * 60 <= int(end.timestamp())]
        else:
            opened = bucket_start(start, timeframe)
            hours = _points(trendbars(client, instrument.symbol, 60, opened, end), instrument)
            derived = bars_derive(hours, source_timeframe=60, timeframe=timeframe, complete_through=end)
            raw = derived[(derived["time"] >= int(start.timestamp())) & derived["complete"]]
        for row in raw:
            yield BarRow(
                time=datetime.fromtimestamp(int(row["time"]), tz=UTC),
                open=int(row["open"]),
                high=int(row["high"]),
                low=int(row["low"]),
                close=int(row["close"]),
                volume=int(row["volume"]),
                complete=True,
            )

    return source


def ctrader_backfill(
    *, instrument: Instrument, timeframe: int, start: datetime | None = None, end: datetime | None = None
) -> tuple[int, int]:
    """Store every complete bar in [start, end) (default: since 2010 up to now); returns (inserted, updated)."""
    rows = list(ctrader_bar_source()(instrument, timeframe, start or EARLIEST, end or datetime.now(UTC)))
    report = bars_upsert(instrument_id=instrument.pk, timeframe=timeframe, bars=rows)
    return report.inserted, report.updated


def bars_keep_current(*, instrument: Instrument, timeframe: int, lookback: int = 3) -> datetime | None:
    """Fetch the bars since the newest stored one (re-reading ``lookback`` of them); returns the newest stored."""
    newest = (
        Bar.objects.filter(instrument=instrument, timeframe=timeframe, complete=True)
        .order_by("-time")
        .values_list("time", flat=True)
        .first()
    )
    start = newest - timedelta(minutes=timeframe * lookback) if newest else datetime.now(UTC) - timedelta(days=7)
    ctrader_backfill(instrument=instrument, timeframe=timeframe, start=start)
    return (
        Bar.objects.filter(instrument=instrument, timeframe=timeframe, complete=True)
        .order_by("-time")
        .values_list("time", flat=True)
        .first()
    )


def ctrader_bar_jobs() -> list[PeriodicJob]:
    """One entry per (instrument, timeframe) that enabled cTrader instances read: fetch the bar that just closed."""
    from trading.services.schedule import bar_close_crontab

    wanted = set(
        StrategyInstance.objects.filter(account__broker=Broker.CTRADER, enabled=True).values_list(
            "instrument_id", "timeframe"
        )
    )
    return [
        PeriodicJob(
            name=f"ctrader bars {instrument_id}/{timeframe}",
            task="trading.tasks.ctrader_bars_keep_current",
            queue=Queue.BROKER_IO,
            args=(instrument_id, timeframe),
            crontab=bar_close_crontab(timeframe),
            expire_seconds=max(30, min(timeframe * 60, 3600)),
            description="Fetch the bar that just closed from cTrader",
        )
        for instrument_id, timeframe in sorted(wanted)
    ]
