"""``manage.py oanda_backfill --instrument EURUSD --timeframe M1 [--start 2020-01-01] [--end …] [--account ID]``.

Stores every complete OANDA candle of the range (default: all history) as bid bars with the close spread.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from trading.bars.gaps import BarSourceMissing
from trading.management.commands.import_bars import instrument_by_symbol, parse_timeframe
from trading.models import BrokerAccount
from trading.venues.oanda.bars import oanda_backfill


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Backfill bars of one instrument and timeframe from OANDA candles (any range, paged 5,000 at a time)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--instrument", required=True)
        parser.add_argument("--timeframe", required=True)
        parser.add_argument("--start", help="UTC start (ISO); default: all history")
        parser.add_argument("--end", help="UTC end, exclusive (ISO); default: now")
        parser.add_argument("--account", type=int, help="OANDA account whose token reads candles")

    def handle(self, *args, **options) -> None:
        instrument = instrument_by_symbol(options["instrument"])
        account = BrokerAccount.objects.get(pk=options["account"]) if options["account"] else None
        started = time.perf_counter()
        try:
            report = oanda_backfill(
                instrument=instrument,
                timeframe=parse_timeframe(options["timeframe"]),
                start=_when(options["start"]),
                end=_when(options["end"]),
                account=account,
            )
        except BarSourceMissing as e:
            raise CommandError(str(e)) from e
        seconds = time.perf_counter() - started
        rate = report.fetched / seconds if seconds > 0 else 0.0
        self.stdout.write(
            f"{report.fetched} bars ({report.inserted} new, {report.updated} changed), "
            f"{report.first} .. {report.last}, {seconds:.2f}s ({rate:,.0f} bars/s)"
        )
