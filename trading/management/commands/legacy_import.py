"""Import an asirikuy-trader folder (atrader.config + its .set presets): a dry run, or --apply.

manage.py legacy_import /path/to/asirikuy-trader --owner alice [--account 3] [--skip sets/a.set:12]
    [--skip autobbs_gbpusd] [--assign kantu=auto] [--assign atipaq=1234] [--enable] [--apply] [--json]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from trading.exceptions import ApplicationError
from trading.legacy.apply import legacy_import_apply
from trading.legacy.plan import AUTO, ImportOptions, legacy_import_plan
from trading.legacy.report import plan_text
from trading.legacy.source import LegacySourceError, source_from_folder
from trading.models import BrokerAccount


def parse_assign(items: list[str]) -> dict[str, int | str]:
    """``SECTION=NUMBER`` or ``SECTION=auto`` pairs."""
    out: dict[str, int | str] = {}
    for item in items:
        section, sep, value = item.partition("=")
        if not sep or not section or not (value == AUTO or value.isdigit()):
            raise ValueError(f"--assign {item!r}: write SECTION=NUMBER or SECTION=auto")
        out[section] = value if value == AUTO else int(value)
    return out


class Command(BaseCommand):
    help = "Import an asirikuy-trader folder: a dry run that lists every line not understood, or --apply."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path)
        parser.add_argument("--owner", required=True, help="User who will own the account and instances")
        parser.add_argument("--account", type=int, help="Import into this existing account (else [account] is used)")
        parser.add_argument("--skip", action="append", default=[], help="file:line, or a strategy section")
        parser.add_argument("--assign", action="append", default=[], help="SECTION=NUMBER or SECTION=auto")
        parser.add_argument("--enable", action="store_true", help="Create the instances enabled")
        parser.add_argument("--apply", action="store_true", help="Write it (only when nothing is left not understood)")
        parser.add_argument("--json", action="store_true", help="Print the dry run as JSON")

    def handle(self, *args: Any, **opts: Any) -> None:
        owner = get_user_model().objects.filter(username=opts["owner"]).first()
        if owner is None:
            raise CommandError(f"no user {opts['owner']!r}")
        account = None
        if opts["account"] is not None:
            account = BrokerAccount.objects.filter(pk=opts["account"], owner=owner).first()
            if account is None:
                raise CommandError(f"{opts['owner']} has no account {opts['account']}")
        try:
            source = source_from_folder(opts["folder"])
            options = ImportOptions(
                owner=owner,
                account=account,
                skip=frozenset(opts["skip"]),
                assign=parse_assign(opts["assign"]),
                enable=opts["enable"],
            )
        except (LegacySourceError, ValueError) as e:
            raise CommandError(str(e)) from e
        plan = legacy_import_plan(source, options)
        report = plan.as_json()
        self.stdout.write(json.dumps(report, indent=2, default=str) if opts["json"] else plan_text(report))
        if not plan.valid:
            raise CommandError(f"{len(plan.problems)} line(s) not understood; nothing was written")
        if opts["apply"]:
            try:
                record = legacy_import_apply(plan, options)
            except ApplicationError as e:  # not valid, or a quota: nothing was written
                raise CommandError(e.message) from e
            except ValidationError as e:  # e.g. OANDA refused the account's token: nothing was written
                raise CommandError("; ".join(e.messages)) from e
            ids = ", ".join(str(i["instance_id"]) for i in record.report["instances"])
            self.stdout.write(f"Imported (import {record.pk}): account {record.account_id}, instances {ids}")
