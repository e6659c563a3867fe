"""``manage.py import_bars FILE --instrument EURUSD [--timeframe M1] [--format csv] [--on-error skip]``."""

from __future__ import annotations

import sys
from typing import overload

from django.core.management.base import BaseCommand, CommandError

from trading.bars.brokertime import BROKER_TIMEZONES, NY_ROLL
from trading.bars.formats import PARSERS
from trading.bars.import_errors import READ_ERRORS, import_error_message
from trading.bars.importing import bars_import
from trading.models import Instrument, Timeframe


@overload
def parse_timeframe(value: str) -> int: ...
@overload
def parse_timeframe(value: None) -> None: ...
def parse_timeframe(value: str | None) -> int | None:
    """ "M1"/"H4"/"D1" or minutes → minutes."""
    if value is None:
        return None
    by_label = {tf.label: int(tf) for tf in Timeframe}
    if value.upper() in by_label:
        return by_label[value.upper()]
    if value.isdigit() and int(value) in Timeframe.values:
        return int(value)
    raise CommandError(f"unknown timeframe {value!r}; use one of {', '.join(by_label)}")


def instrument_by_symbol(symbol: str) -> Instrument:
    try:
        return Instrument.objects.get(symbol=symbol.upper())
    except Instrument.DoesNotExist:
        raise CommandError(f"no instrument {symbol!r}; create it first (admin or API)") from None


class ProgressBar:
    """A one-line progress bar on stderr when it is a terminal (no dependency)."""

    def __init__(self, stream=sys.stderr) -> None:
        self.stream = stream
        self.enabled = stream.isatty()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        width = 30
        filled = width * done // total if total else width
        percent = 100 * done // total if total else 100
        self.stream.write(f"\r{stage:<9}[{'#' * filled}{'.' * (width - filled)}] {percent:3d}% {done:,}/{total:,}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")


class Command(BaseCommand):
    help = "Import bars from a file (CSV, MetaTrader, HistData, Dukascopy, OANDA JSON) and print a report."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")
        parser.add_argument("--instrument", required=True, help="Platform symbol, e.g. EURUSD")
        parser.add_argument("--timeframe", help="M1..MN or minutes; detected from the times when omitted")
        parser.add_argument("--format", choices=sorted(PARSERS), help="Detected when omitted")
        parser.add_argument("--on-error", choices=["stop", "skip"], default="stop")
        parser.add_argument(
            "--source-tz",
            choices=sorted(BROKER_TIMEZONES),
            help="Clock of the file's times (MetaTrader: the broker's server clock)",
        )
        parser.add_argument(
            "--align-tz",
            choices=sorted(BROKER_TIMEZONES),
            default=NY_ROLL,
            help="Trading clock that H4/D1/W1/MN times must be aligned to",
        )
        parser.add_argument("--delimiter")
        parser.add_argument("--date-format", help="strptime format, or 'unix'")
        parser.add_argument("--header", dest="has_header", action="store_true", default=None)
        parser.add_argument("--no-header", dest="has_header", action="store_false")

    def handle(self, *args, **options) -> None:
        instrument = instrument_by_symbol(options["instrument"])
        format_options = {
            key: options[key]
            for key in ("source_tz", "delimiter", "date_format", "has_header")
            if options[key] is not None
        }
        progress = ProgressBar()
        try:
            report = bars_import(
                source=options["file"],
                fmt=options["format"],
                instrument=instrument,
                timeframe=parse_timeframe(options["timeframe"]),
                on_error=options["on_error"],
                align_tz=options["align_tz"],
                progress=progress,
                **format_options,
            )
        except READ_ERRORS as e:
            progress.close()
            raise CommandError(import_error_message(e, options["file"])) from e
        progress.close()
        for error in report.errors:
            self.stderr.write(str(error))
        self.stdout.write(report.summary())
