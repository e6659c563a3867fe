"""``manage.py export_bars --instrument EURUSD --timeframe H1 [--start ISO] [--end ISO] [-o FILE]``."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from trading.bars.export import bars_export
from trading.management.commands.import_bars import instrument_by_symbol, parse_timeframe


def parse_utc(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as e:
        raise CommandError(f"{value!r} is not an ISO date/time") from e
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


class Command(BaseCommand):
    help = "Export the bars of one instrument and timeframe to CSV (UTC times, exact prices)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--instrument", required=True)
        parser.add_argument("--timeframe", required=True)
        parser.add_argument("--start", help="ISO time, UTC unless an offset is given")
        parser.add_argument("--end")
        parser.add_argument("-o", "--output", help="File to write; standard output when omitted")

    def handle(self, *args, **options) -> None:
        instrument = instrument_by_symbol(options["instrument"])
        timeframe = parse_timeframe(options["timeframe"])
        start, end = parse_utc(options["start"]), parse_utc(options["end"])
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8", newline="") as out:
                count = bars_export(out=out, instrument=instrument, timeframe=timeframe, start=start, end=end)
            self.stderr.write(f"{count} bars written to {options['output']}")
        else:
            bars_export(out=self.stdout, instrument=instrument, timeframe=timeframe, start=start, end=end)
