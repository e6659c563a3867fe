"""Switching an account's virtual order mode."""

from __future__ import annotations

from django.db import transaction

from trading.exceptions import ApplicationError
from trading.models import BrokerAccount, Order, Trade, TradeState
from trading.models.enums import OPEN_ORDER_STATUSES

SWITCH_WITH_OPEN_BOOK = "the virtual order mode can only change while the account has no open trades or orders"


@transaction.atomic
def account_set_virtual_orders(account: BrokerAccount, value: bool | None) -> BrokerAccount:
    """Set the flag (None = automatic: on for FIFO accounts); refused when the effective mode would change
    under open trades or orders, which would leave them with no path to close."""
    account = BrokerAccount.objects.select_for_update().get(pk=account.pk)
    before = account.virtual_mode
    account.virtual_orders = value
    if account.virtual_mode != before and (
        Trade.objects.filter(account=account, state=TradeState.OPEN).exists()
        or Order.objects.filter(account=account, status__in=OPEN_ORDER_STATUSES).exists()
    ):
        raise ApplicationError(SWITCH_WITH_OPEN_BOOK, {"account": account.pk})
    BrokerAccount.objects.filter(pk=account.pk).update(virtual_orders=value)
    return account
