"""``manage.py virtual_net ACCOUNT_ID [--repair SYMBOL --confirm]``: virtual net vs broker net, per instrument.

Without ``--repair`` nothing is changed. A repair sends one market order for the shown difference, and only
with ``--confirm``; it is refused while a netting order of the instrument is in flight or unknown.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from trading.exceptions import ApplicationError
from trading.models import BrokerAccount, Instrument
from trading.services.orders.dispatch import orders_dispatch
from trading.services.virtual.netting import virtual_net_check, virtual_net_repair


class Command(BaseCommand):
    help = "Show each instrument's virtual net and broker net position; repair one difference on request."

    def add_arguments(self, parser) -> None:
        parser.add_argument("account", type=int)
        parser.add_argument("--repair", metavar="SYMBOL", help="send the market order that closes this difference")
        parser.add_argument("--confirm", action="store_true", help="required with --repair")

    def handle(self, *args, **options) -> None:
        account = BrokerAccount.objects.filter(pk=options["account"]).first()
        if account is None:
            raise CommandError(f"account {options['account']} does not exist")
        lines = virtual_net_check(account)
        for line in lines:
            self.stdout.write(
                f"{line.symbol}: virtual {line.virtual_net} broker {line.broker_net} "
                f"in flight {line.in_flight} difference {line.difference}"
            )
        if not lines:
            self.stdout.write("no positions")
        if not options["repair"]:
            return
        instrument = Instrument.objects.filter(symbol=options["repair"]).first()
        if instrument is None:
            raise CommandError(f"unknown instrument {options['repair']}")
        try:
            order = virtual_net_repair(account=account, instrument=instrument, confirmed=options["confirm"])
        except ApplicationError as e:
            raise CommandError(e.message) from e
        if order is None:
            self.stdout.write(f"{instrument.symbol}: nothing to repair")
            return
        orders_dispatch(account_id=account.pk, instrument_id=instrument.pk)  # a command has no worker to wait for
        order.refresh_from_db()
        self.stdout.write(
            f"{instrument.symbol}: repair order {order.client_order_id} {order.side} {order.units} {order.status}"
        )
