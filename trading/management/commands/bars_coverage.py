"""``manage.py bars_coverage [--instrument EURUSD] [--timeframe H1] [--min-missing N]``: coverage and gaps."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from trading.bars.coverage import bars_coverage
from trading.management.commands.import_bars import instrument_by_symbol, parse_timeframe
from trading.models import Timeframe


class Command(BaseCommand):
    help = "Show first/last bar, count and the gaps that are not weekends or holidays, per instrument/timeframe."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--instrument")
        parser.add_argument("--timeframe")
        parser.add_argument("--min-missing", type=int, default=1, help="Only list gaps of at least N bars")

    def handle(self, *args, **options) -> None:
        instrument_id = instrument_by_symbol(options["instrument"]).id if options["instrument"] else None
        rows = bars_coverage(
            instrument_id=instrument_id,
            timeframe=parse_timeframe(options["timeframe"]),
            min_missing=options["min_missing"],
        )
        if not rows:
            self.stdout.write("no bars")
        for row in rows:
            self.stdout.write(
                f"{row.symbol} {Timeframe(row.timeframe).label}: {row.count} bars, "
                f"{row.first:%Y-%m-%d %H:%M} .. {row.last:%Y-%m-%d %H:%M} UTC, {len(row.gaps)} gaps"
            )
            for gap in row.gaps:
                self.stdout.write(
                    f"  gap {gap.start:%Y-%m-%d %H:%M} .. {gap.end:%Y-%m-%d %H:%M} UTC: {gap.missing_bars} bars missing"
                )
