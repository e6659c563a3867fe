"""``manage.py oanda_check_account --environment practice --account-id 101-… [--token-file F | stdin]``.

Checks a token and account id against OANDA, as adding the account in the admin or API does. The token
is read from a file or standard input (or OANDA_TOKEN), never from the command line where ``ps`` shows it.
"""

from __future__ import annotations

import os
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from trading.venues.oanda.account_check import oanda_account_check


class Command(BaseCommand):
    help = "Check an OANDA API token and account id against the practice or live environment."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--environment", choices=["practice", "live"], default="practice")
        parser.add_argument("--account-id", required=True)
        parser.add_argument("--token-file", help="file holding the token (default: OANDA_TOKEN, else stdin)")

    def handle(self, *args, **options) -> None:
        if options["token_file"]:
            with open(options["token_file"]) as f:
                token = f.read().strip()
        else:
            token = os.environ.get("OANDA_TOKEN", "").strip() or sys.stdin.readline().strip()
        try:
            check = oanda_account_check(
                environment=options["environment"], broker_account_id=options["account_id"], token=token
            )
        except ValidationError as e:
            problems = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in e.message_dict.items())
            raise CommandError(problems) from None
        self.stdout.write(
            f"OK: account {check.broker_account_id} on OANDA {check.environment}, {check.currency} "
            f"balance {check.balance}, {'hedging' if check.hedging_enabled else 'no hedging (FIFO)'}, "
            f"last transaction {check.last_transaction_id}"
        )
