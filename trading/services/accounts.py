"""Creating and changing broker accounts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from trading.models import AccountSnapshot, Broker, BrokerAccount

_UPDATABLE = {"name", "environment", "broker_account_id", "currency", "fifo", "leverage", "enabled"}


@transaction.atomic
def account_create(
    *,
    owner: AbstractBaseUser,
    name: str,
    broker: str = Broker.PAPER,
    environment: str = "practice",
    broker_account_id: str = "",
    token: str = "",
    currency: str = "USD",
    fifo: bool = False,
    leverage: Decimal = Decimal("50"),
    initial_balance: Decimal = Decimal("10000"),
    enabled: bool = True,
) -> BrokerAccount:
    account = BrokerAccount(
        owner=owner,
        name=name,
        broker=broker,
        environment=environment,
        broker_account_id=broker_account_id,
        currency=currency,
        fifo=fifo,
        leverage=leverage,
        enabled=enabled,
    )
    if broker == Broker.PAPER:
        account.balance = account.equity = Decimal(initial_balance)
    if token:
        account.set_token(token)
    account.full_clean()
    if broker == Broker.OANDA:
        _oanda_check(account, token)
    account.save()
    if broker == Broker.PAPER:
        AccountSnapshot.objects.create(
            account=account, time=timezone.now(), balance=account.balance, equity=account.equity
        )
    return account


@transaction.atomic
def account_update(account: BrokerAccount, **fields: Any) -> BrokerAccount:
    unknown = set(fields) - _UPDATABLE - {"token"}
    if unknown:
        raise ValueError(f"account fields that cannot be changed here: {', '.join(sorted(unknown))}")
    token = fields.pop("token", None)
    for key, value in fields.items():
        setattr(account, key, value)
    if token:
        account.set_token(token)
    account.full_clean()
    if account.broker == Broker.OANDA and (token or {"environment", "broker_account_id"} & set(fields)):
        _oanda_check(account, token or account.get_token())
    account.save()
    if {"enabled"} & set(fields):
        from trading.services.schedule import account_schedules_sync

        account_schedules_sync(account)
    return account


def _oanda_check(account: BrokerAccount, token: str) -> None:
    """OANDA accounts: the token must open this account id in this environment (else a field error)."""
    from trading.services.oanda.account_check import oanda_account_check

    check = oanda_account_check(
        environment=account.environment, broker_account_id=account.broker_account_id, token=token
    )
    account.currency = check.currency
    account.fifo = not check.hedging_enabled
    account.balance = check.balance
    if not account.last_transaction_id:
        account.last_transaction_id = check.last_transaction_id


def account_set_token(account: BrokerAccount, token: str) -> None:
    account.set_token(token)
    account.save(update_fields=["token_encrypted", "token_hint", "updated_at"])
