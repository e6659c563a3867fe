"""``manage.py derive_bars --instrument EURUSD --from M1 --to H1 D1 [--align-tz OANDA]``."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from trading.bars.brokertime import BROKER_TIMEZONES, NY_ROLL
from trading.bars.derive import bars_derive_store
from trading.management.commands.export_bars import parse_utc
from trading.management.commands.import_bars import instrument_by_symbol, parse_timeframe


class Command(BaseCommand):
    help = "Derive coarser bars (M5..MN) from stored finer bars and upsert them."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--instrument", required=True)
        parser.add_argument("--from", dest="source", default="M1")
        parser.add_argument("--to", dest="targets", nargs="+", required=True)
        parser.add_argument("--align-tz", choices=sorted(BROKER_TIMEZONES), default=NY_ROLL)
        parser.add_argument("--start")
        parser.add_argument("--end")

    def handle(self, *args, **options) -> None:
        instrument = instrument_by_symbol(options["instrument"])
        source = parse_timeframe(options["source"])
        for target in options["targets"]:
            report = bars_derive_store(
                instrument=instrument,
                source_timeframe=source,
                timeframe=parse_timeframe(target),
                align_tz=options["align_tz"],
                start=parse_utc(options["start"]),
                end=parse_utc(options["end"]),
            )
            self.stdout.write(
                f"{instrument} {target}: {report.rows} bars derived, {report.inserted} inserted, "
                f"{report.updated} updated, {report.unchanged} unchanged"
            )
