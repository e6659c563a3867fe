"""``manage.py ctrader_backfill --instrument EURUSD --timeframe M1 [--start 2024-01-01]``: complete bars from
cTrader trend bars (H4 and longer derived from H1 with the platform's FX-time rules)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from brokers.errors import BrokerError
from trading.bars.gaps import BarSourceMissing
from trading.models import Instrument, Timeframe
from trading.venues.ctrader.bars import ctrader_backfill


class Command(BaseCommand):
    help = "Store complete bars of one instrument and timeframe from cTrader."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--instrument", required=True)
        parser.add_argument("--timeframe", required=True, choices=Timeframe.labels)
        parser.add_argument("--start", help="YYYY-MM-DD (UTC), default 2010-01-01")

    def handle(self, *args: Any, **options: Any) -> None:
        instrument = Instrument.objects.filter(symbol=options["instrument"].upper()).first()
        if instrument is None:
            raise CommandError(f"no instrument {options['instrument']}: add it first (manage.py ctrader_instruments)")
        timeframe = next(v for v, label in Timeframe.choices if label == options["timeframe"])
        start = datetime.strptime(options["start"], "%Y-%m-%d").replace(tzinfo=UTC) if options["start"] else None
        try:
            inserted, updated = ctrader_backfill(instrument=instrument, timeframe=timeframe, start=start)
        except (BrokerError, BarSourceMissing) as e:
            raise CommandError(str(e)) from None
        self.stdout.write(f"{instrument.symbol} {options['timeframe']}: {inserted} inserted, {updated} updated")
