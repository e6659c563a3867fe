"""manage.py backtest INSTANCE_ID [--start ...] [--end ...] [--engine parity|fast] [costs...]"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError

from backtests.engine.market import Costs
from backtests.services.runs import backtest_run_create, backtest_run_execute, backtest_run_progress
from trading.models import StrategyInstance


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _required_date(value: str) -> datetime:
    """A date the command cannot do without (an empty one is an error, not "all data")."""
    parsed = _date(value)
    if parsed is None:
        raise CommandError("a date is required: ISO, UTC unless an offset is given")
    return parsed


class Command(BaseCommand):
    help = "Backtest a strategy instance on stored bars and store the run (prints its statistics)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("instance_id", type=int)
        parser.add_argument("--start", help="first bar, ISO date/time in UTC (default: all data)")
        parser.add_argument("--end", help="last bar, ISO date/time in UTC (default: all data)")
        parser.add_argument("--engine", choices=["parity", "fast"], default="parity")
        parser.add_argument("--balance", default="10000", help="initial balance in the account currency")
        parser.add_argument("--spread", type=int, default=None, help="fixed spread in points (default: bar data)")
        parser.add_argument("--commission", type=float, default=0.0, help="per lot, round turn")
        parser.add_argument("--swap-long", type=float, default=0.0, help="per lot per night")
        parser.add_argument("--swap-short", type=float, default=0.0, help="per lot per night")
        parser.add_argument("--slippage", type=int, default=0, help="points")
        parser.add_argument("--min-stop", type=int, default=0, help="minimum stop distance in points")
        parser.add_argument("--min-stop-mode", choices=["reject", "widen"], default="reject")
        parser.add_argument("--param", action="append", default=[], help="NAME=VALUE overriding a parameter")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options) -> None:
        instance = (
            StrategyInstance.objects.select_related("instrument", "account").filter(pk=options["instance_id"]).first()
        )
        if instance is None:
            raise CommandError(f"instance {options['instance_id']} does not exist")
        params = {}
        for item in options["param"]:
            name, _, value = item.partition("=")
            params[name] = float(value) if "." in value else int(value)
        costs = Costs(
            spread_points=options["spread"],
            commission_per_lot=options["commission"],
            swap_long_per_lot=options["swap_long"],
            swap_short_per_lot=options["swap_short"],
            slippage_points=options["slippage"],
            min_stop_points=options["min_stop"],
            min_stop_mode=options["min_stop_mode"],
        )
        run = backtest_run_create(
            instance=instance,
            start=_date(options["start"]),
            end=_date(options["end"]),
            costs=costs,
            initial_balance=Decimal(options["balance"]),
            engine=options["engine"],
            parameters=params,
        )
        show = not options["no_progress"]

        def progress(fraction: float) -> None:
            backtest_run_progress(run_id=run.pk, fraction=fraction)
            if show:
                filled = int(fraction * 40)
                sys.stderr.write(f"\r[{'#' * filled}{'.' * (40 - filled)}] {fraction * 100:5.1f}%")
                sys.stderr.flush()

        try:
            run = backtest_run_execute(run_id=run.pk, progress=progress)
        except Exception as e:
            raise CommandError(f"backtest {run.pk} failed: {e}") from e
        if show:
            sys.stderr.write("\n")
        self.stdout.write(
            f"backtest {run.pk}: {run.bars_tested} bars in {run.duration_seconds:.2f} s, {run.trades.count()} trades"
        )
        for key, value in run.statistics.items():
            self.stdout.write(f"  {key:28s} {value if not isinstance(value, float) else round(value, 4)}")
