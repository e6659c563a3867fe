"""``manage.py fill_bar_gaps --instrument EURUSD --timeframe M1 --broker oanda``: fetch missing bars."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from trading.bars.gaps import BarSourceMissing, bar_source_for, bars_fill_gaps
from trading.management.commands.import_bars import instrument_by_symbol, parse_timeframe


class Command(BaseCommand):
    help = "Fill the gaps (not weekends or holidays) of a series from the configured broker's data source."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--instrument", required=True)
        parser.add_argument("--timeframe", required=True)
        parser.add_argument("--broker", default="oanda")

    def handle(self, *args, **options) -> None:
        instrument = instrument_by_symbol(options["instrument"])
        try:
            source = bar_source_for(options["broker"])
        except BarSourceMissing as e:
            raise CommandError(str(e)) from e
        report = bars_fill_gaps(instrument=instrument, timeframe=parse_timeframe(options["timeframe"]), source=source)
        self.stdout.write(f"{report.gaps} gaps, {report.inserted} bars inserted, {report.still_missing} gaps left")
