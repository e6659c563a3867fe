"""manage.py walkforward INSTANCE_ID --start 2023-01-01 --in-sample 90d --out-of-sample 30d --windows 4 --space JSON"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError

from backtests.engine.market import Costs
from backtests.management.commands.backtest import _required_date
from backtests.services.walkforward import WalkForwardError, walkforward_create
from backtests.services.walkforward_run import walkforward_execute
from trading.models import StrategyInstance

UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _duration(value: str) -> timedelta:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([mhdw])", value.strip())
    if match is None:
        raise CommandError(f"durations look like 30m, 8h, 90d or 2w (was {value!r})")
    return timedelta(**{UNITS[match[2]]: float(match[1])})


def _fmt(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


class Command(BaseCommand):
    help = (
        "Walk-forward an instance: per window optimise in-sample, test the best pass out-of-sample, "
        "stitch the OOS parts; prints each window, the efficiency and the parameter stability."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("instance_id", type=int)
        parser.add_argument("--start", required=True, help="start of the first in-sample part, ISO UTC")
        parser.add_argument("--in-sample", required=True, help="in-sample length: 30m, 8h, 90d, 2w")
        parser.add_argument("--out-of-sample", required=True, help="out-of-sample length (also the step)")
        parser.add_argument("--windows", type=int, required=True)
        parser.add_argument("--mode", choices=["rolling", "anchored"], default="rolling")
        parser.add_argument("--space", required=True, help='JSON: {"FAST_PERIOD": {"min": 3, "max": 9}} or lists')
        parser.add_argument("--method", choices=["grid", "random"], default="grid")
        parser.add_argument("--samples", type=int, default=0)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--select-by", default="net_profit", help="statistic that picks the best pass")
        parser.add_argument("--order", choices=["asc", "desc"], default="desc")
        parser.add_argument("--engine", choices=["parity", "fast"], default="fast")
        parser.add_argument("--balance", default="10000")
        parser.add_argument("--spread", type=int, default=None)
        parser.add_argument("--commission", type=float, default=0.0)

    def handle(self, *args, **options) -> None:
        instance = (
            StrategyInstance.objects.select_related("instrument", "account").filter(pk=options["instance_id"]).first()
        )
        if instance is None:
            raise CommandError(f"instance {options['instance_id']} does not exist")
        try:
            space = json.loads(options["space"])
            wf = walkforward_create(
                instance=instance,
                start=_required_date(options["start"]),
                in_sample=_duration(options["in_sample"]),
                out_of_sample=_duration(options["out_of_sample"]),
                windows=options["windows"],
                mode=options["mode"],
                space=space,
                method=options["method"],
                samples=options["samples"],
                seed=options["seed"],
                select_by=options["select_by"],
                select_descending=options["order"] == "desc",
                costs=Costs(spread_points=options["spread"], commission_per_lot=options["commission"]),
                initial_balance=Decimal(options["balance"]),
                engine=options["engine"],
            )
        except (ValueError, WalkForwardError) as e:
            raise CommandError(str(e)) from e
        try:
            wf = walkforward_execute(walk_forward_id=wf.pk)
        except Exception as e:
            raise CommandError(f"walk-forward {wf.pk} failed: {e}") from e
        self.stdout.write(f"walk-forward {wf.pk} ({wf.mode}, {wf.windows} windows, best by {wf.select_by})")
        for row in wf.window_rows.order_by("index"):
            self.stdout.write(
                f"  #{row.index} IS {row.in_sample_start:%Y-%m-%d %H:%M}..{row.in_sample_end:%Y-%m-%d %H:%M} "
                f"OOS ..{row.out_of_sample_end:%Y-%m-%d %H:%M} {row.parameters} "
                f"IS {_fmt(row.in_sample_return)} OOS {_fmt(row.out_of_sample_return)} (annualised) "
                f"balance {row.start_balance} -> {row.end_balance}"
            )
        self.stdout.write(f"  efficiency {_fmt(wf.efficiency)} (mean OOS / mean IS annualised return)")
        for name, values in wf.parameter_stability.items():
            self.stdout.write(f"  {name:24s} " + " ".join(f"{k} {_fmt(v)}" for k, v in values.items()))
        self.stdout.write(
            f"  OOS net profit {_fmt(wf.statistics.get('net_profit'))}, "
            f"final balance {_fmt(wf.statistics.get('final_balance'))}"
        )
