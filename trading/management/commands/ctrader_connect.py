"""Add a cTrader account through the documented OAuth flow (Spotware's "App and account authentication").

manage.py ctrader_connect --url
    prints the page where the account's owner grants the application access (CTRADER_REDIRECT_URI must be
    one of the application's redirect URLs); cTrader sends the browser there with ``?code=…``
manage.py ctrader_connect --code CODE --owner alice --name "Pepperstone demo" [--broker-account-id ID]
    exchanges the code (valid one minute) for a token pair and adds the account: checked, tokens encrypted,
    nothing printed of them. Without --broker-account-id the token's one account of the environment is used.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from brokers.ctrader import CTraderClient
from brokers.ctrader.tokens import authorize_url, exchange_code
from brokers.errors import BrokerError
from trading.venues.ctrader.accounts import ctrader_account_add
from trading.venues.ctrader.client import ctrader_connection


class Command(BaseCommand):
    help = "Grant page URL (--url), or exchange a grant's code and add the cTrader account (--code)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--url", action="store_true")
        parser.add_argument("--code")
        parser.add_argument("--owner", help="username of the account's owner")
        parser.add_argument("--name", default="cTrader")
        parser.add_argument("--environment", choices=["practice", "live"], default="practice")
        parser.add_argument("--broker-account-id", help="ctidTraderAccountId (manage.py ctrader_accounts lists them)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.CTRADER_CLIENT_ID or not settings.CTRADER_REDIRECT_URI:
            raise CommandError("set CTRADER_CLIENT_ID, CTRADER_CLIENT_SECRET and CTRADER_REDIRECT_URI first")
        if options["url"]:
            self.stdout.write(
                authorize_url(client_id=settings.CTRADER_CLIENT_ID, redirect_uri=settings.CTRADER_REDIRECT_URI)
            )
            return
        if not options["code"] or not options["owner"]:
            raise CommandError("give --url, or --code with --owner")
        owner = get_user_model().objects.filter(username=options["owner"]).first()
        if owner is None:
            raise CommandError(f"no user {options['owner']!r}")
        try:
            tokens = exchange_code(
                code=options["code"],
                client_id=settings.CTRADER_CLIENT_ID,
                client_secret=settings.CTRADER_CLIENT_SECRET,
                redirect_uri=settings.CTRADER_REDIRECT_URI,
            )
            client = CTraderClient(ctrader_connection(options["environment"]), account_id=0, tokens=tokens)
            live = options["environment"] == "live"
            accounts = [a for a in client.list_trading_accounts() if a[1] == live]
        except BrokerError as e:
            raise CommandError(str(e)) from None
        chosen = options["broker_account_id"]
        if chosen is None:
            if len(accounts) != 1:
                listed = ", ".join(f"{a} (login {login})" for a, _, login in accounts) or "none"
                raise CommandError(f"the grant opens {listed}: repeat with a new code and --broker-account-id")
            chosen = str(accounts[0][0])
        try:
            account = ctrader_account_add(
                owner=owner,
                name=options["name"],
                environment=options["environment"],
                broker_account_id=chosen,
                tokens=tokens,
            )
        except ValidationError as e:
            raise CommandError(str(e)) from None
        self.stdout.write(f"added cTrader account {account.pk} ({account.broker_account_id}, {account.currency})")
