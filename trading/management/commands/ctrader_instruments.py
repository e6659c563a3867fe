"""``manage.py ctrader_instruments --account ID [--symbols EURUSD,XAUUSD] [--create]``: the broker's symbols
against our instruments; ``--create`` adds the missing ones with the broker's digits, contract size and volumes."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from brokers.errors import BrokerError
from trading.venues.ctrader.accounts import ctrader_account_get
from trading.venues.ctrader.instruments import ctrader_catalog


class Command(BaseCommand):
    help = "Compare a cTrader account's symbols with the platform's instruments (and create the missing ones)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--account", type=int, required=True)
        parser.add_argument("--symbols", help="comma-separated symbols (default: every symbol of the account)")
        parser.add_argument("--create", action="store_true", help="create the instruments that are missing")

    def handle(self, *args: Any, **options: Any) -> None:
        account = ctrader_account_get(options["account"])
        if account is None:
            raise CommandError(f"no cTrader account {options['account']}")
        symbols = [s.strip() for s in options["symbols"].split(",")] if options["symbols"] else None
        try:
            lines = ctrader_catalog(account, symbols=symbols, create=options["create"])
        except BrokerError as e:
            raise CommandError(str(e)) from None
        for line in lines:
            self.stdout.write(f"{line.symbol}\t{line.broker_symbol}\t{line.outcome}")
