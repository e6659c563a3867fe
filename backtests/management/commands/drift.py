"""manage.py drift INSTANCE_ID --start 2024-03-12T09:00 --end 2024-03-12T17:00 [--tolerance 60] [--balance 10000]"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError

from backtests.management.commands.backtest import _required_date
from backtests.services.drift import DriftError, drift_report_create, drift_report_execute


def _cell(value: object) -> str:
    return "-" if value is None or value == "" else str(value)


class Command(BaseCommand):
    help = (
        "Compare what an instance traded live or on paper over a period with a parity replay of the same bars; "
        "stores the report and prints one line per trade, the totals and the verdict."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("instance_id", type=int)
        parser.add_argument("--start", required=True, help="first bar open of the period, ISO UTC")
        parser.add_argument("--end", required=True, help="last bar open of the period, ISO UTC")
        parser.add_argument(
            "--tolerance",
            type=int,
            default=None,
            help="seconds between open times still counted as the same trade (default: one bar)",
        )
        parser.add_argument("--balance", default=None, help="balance at the start (default: from the account)")

    def handle(self, *args, **options) -> None:
        try:
            report = drift_report_create(
                instance_id=options["instance_id"],
                start=_required_date(options["start"]),
                end=_required_date(options["end"]),
                tolerance=None if options["tolerance"] is None else timedelta(seconds=options["tolerance"]),
                initial_balance=None if options["balance"] is None else Decimal(options["balance"]),
            )
        except (ValueError, ArithmeticError) as e:
            raise CommandError(str(e)) from e
        try:
            report = drift_report_execute(report_id=report.pk)
        except DriftError as e:
            raise CommandError(f"drift report {report.pk} failed: {e}") from e
        self.stdout.write(
            f"drift report {report.pk}: instance {report.instance_id} {report.symbol} "
            f"M{report.timeframe} {report.start:%Y-%m-%d %H:%M}..{report.end:%Y-%m-%d %H:%M} UTC"
        )
        for row in report.rows.all():
            self.stdout.write(
                f"  #{row.index} {row.match:13s} {row.side:4s} live {_cell(row.live_open_time)} "
                f"@ {_cell(row.live_open_price)} -> {_cell(row.live_close_price)} {_cell(row.live_close_reason)} "
                f"P/L {_cell(row.live_profit)} | replay {_cell(row.backtest_open_time)} @ "
                f"{_cell(row.backtest_open_price)} -> {_cell(row.backtest_close_price)} "
                f"{_cell(row.backtest_close_reason)} P/L {_cell(row.backtest_profit)} | slippage "
                f"{_cell(row.entry_slippage_points)}/{_cell(row.exit_slippage_points)} pts, "
                f"P/L diff {_cell(row.profit_difference)}{' | ' + row.note if row.note else ''}"
            )
        self.stdout.write(f"  {report.summary}")
        self.stdout.write(f"  verdict: {report.verdict}")
