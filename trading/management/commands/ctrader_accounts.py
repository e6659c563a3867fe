"""``manage.py ctrader_accounts --environment practice|live`` (the access token on stdin).

Lists the trading accounts an access token opens (``ctidTraderAccountId``, login, demo or live): the id to enter
as ``broker_account_id`` when adding a cTrader account. Nothing is saved and the token is not printed.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from brokers.ctrader import CTraderClient, TokenSet
from brokers.errors import BrokerError
from trading.venues.ctrader.client import ctrader_connection


class Command(BaseCommand):
    help = "List the cTrader trading accounts an access token (read from stdin) opens."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--environment", choices=["practice", "live"], default="practice")

    def handle(self, *args: Any, **options: Any) -> None:
        token = sys.stdin.readline().strip()
        if not token:
            raise CommandError('give the access token on standard input (echo "$TOKEN" | manage.py ctrader_accounts)')
        client = CTraderClient(ctrader_connection(options["environment"]), account_id=0, tokens=TokenSet(token))
        try:
            accounts = client.list_trading_accounts()
        except BrokerError as e:
            raise CommandError(str(e)) from None
        if not accounts:
            self.stdout.write("the token opens no trading account")
        for account_id, live, login in accounts:
            self.stdout.write(f"{account_id}\tlogin {login}\t{'live' if live else 'demo'}")
