"""``manage.py reconcile [--account ID] [--sync]``: report differences between OANDA and the database.

Changes no trade or order: differences become Discrepancy rows, resolved in the admin or the API.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from trading.models import Broker, BrokerAccount, Discrepancy, DiscrepancyStatus
from trading.services.oanda.reconcile import reconcile_detect
from trading.services.oanda.sync import oanda_account_sync


class Command(BaseCommand):
    help = "Compare each OANDA account's open trades and pending orders with the database; list differences."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--account", type=int, help="one account id (default: every enabled OANDA account)")
        parser.add_argument("--sync", action="store_true", help="apply the transaction history first")

    def handle(self, *args, **options) -> None:
        accounts = BrokerAccount.objects.filter(broker=Broker.OANDA, enabled=True).exclude(token_encrypted="")
        if options["account"]:
            accounts = accounts.filter(pk=options["account"])
        for account in accounts:
            if options["sync"]:
                oanda_account_sync(account)
            report = reconcile_detect(account)
            self.stdout.write(f"{account}: {report.open} open differences ({report.new} new, {report.gone} gone)")
            for d in Discrepancy.objects.filter(account=account, status=DiscrepancyStatus.OPEN):
                self.stdout.write(f"  #{d.pk} {d.get_kind_display()}: {d.detail}")
