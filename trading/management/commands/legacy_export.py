"""Write an instance of a foreign library's strategy back to a MetaTrader .set preset.

manage.py legacy_export 1001 [-o autobbs.set]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from trading.exceptions import ApplicationError
from trading.legacy.export import legacy_export_set
from trading.models import StrategyInstance


class Command(BaseCommand):
    help = "Export an instance to a .set preset (its imported preset, with the values it has now)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("instance_id", type=int)
        parser.add_argument("-o", "--output", type=Path, help="File to write (default: the preset's own name)")

    def handle(self, *args: Any, **opts: Any) -> None:
        instance = (
            StrategyInstance.objects.select_related("instrument", "account").filter(pk=opts["instance_id"]).first()
        )
        if instance is None:
            raise CommandError(f"no instance {opts['instance_id']}")
        try:
            name, data = legacy_export_set(instance)
        except ApplicationError as e:
            raise CommandError(e.message) from e
        target = opts["output"] or Path(name)
        target.write_bytes(data)
        self.stdout.write(f"wrote {target} ({len(data)} bytes)")
