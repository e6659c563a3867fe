"""``manage.py reconcile [--account ID] [--sync]``: report differences between brokers and the database.

Changes no trade or order: differences become Discrepancy rows, resolved in the admin or the API. Every
enabled account whose broker can differ from the database (its venue ``reconciles``) is compared.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from trading.models import Discrepancy, DiscrepancyStatus
from trading.services.account_sync import account_sync
from trading.services.reconcile import reconcile_detect, reconciled_accounts


class Command(BaseCommand):
    help = "Compare each broker account's open trades and pending orders with the database; list differences."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", type=int, help="one account id (default: every enabled broker account)")
        parser.add_argument("--sync", action="store_true", help="apply the transaction history first")

    def handle(self, *args: Any, **options: Any) -> None:
        for account in reconciled_accounts():
            if options["account"] and account.pk != options["account"]:
                continue
            if options["sync"]:
                account_sync(account, now=timezone.now())
            report = reconcile_detect(account)
            self.stdout.write(f"{account}: {report.open} open differences ({report.new} new, {report.gone} gone)")
            for d in Discrepancy.objects.filter(account=account, status=DiscrepancyStatus.OPEN):
                self.stdout.write(f"  #{d.pk} {d.get_kind_display()}: {d.detail}")
