"""Creating and changing broker accounts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from trading.models import Broker, BrokerAccount
from trading.services.quotas import quota_check
from trading.services.schedule import schedules_sync
from trading.venues import venue_class, venue_for

_UPDATABLE = {"name", "environment", "broker_account_id", "currency", "fifo", "leverage", "enabled"}


@sensitive_variables("token")
@transaction.atomic
def account_create(
    *,
    owner: User,
    name: str,
    broker: str = Broker.PAPER,
    environment: str = "practice",
    broker_account_id: str = "",
    token: str = "",
    refresh_token: str = "",
    currency: str = "USD",
    fifo: bool = False,
    leverage: Decimal = Decimal("50"),
    initial_balance: Decimal = Decimal("10000"),
    enabled: bool = True,
) -> BrokerAccount:
    quota_check(user=owner, quota="accounts")
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
    if token:
        account.set_token(token)
    if refresh_token:
        account.set_refresh_token(refresh_token)
    # The venue's check (the OANDA token opens this id) comes before the uniqueness check: whether another user
    # registered a broker account id is only told to someone whose token opens that account.
    account.full_clean(validate_constraints=False)
    venue_class(account.broker).account_prepare(account, token=token, initial_balance=Decimal(initial_balance))
    _unique_check(account)
    account.save()
    venue_for(account).account_created()
    schedules_sync()  # the broker's periodic jobs of the new account
    return account


@sensitive_variables("token", "fields")
@transaction.atomic
def account_update(account: BrokerAccount, **fields: Any) -> BrokerAccount:
    unknown = set(fields) - _UPDATABLE - {"token", "refresh_token"}
    if unknown:
        raise ValueError(f"account fields that cannot be changed here: {', '.join(sorted(unknown))}")
    token = fields.pop("token", None)
    refresh_token = fields.pop("refresh_token", None)
    for key, value in fields.items():
        setattr(account, key, value)
    if token:
        account.set_token(token)
        account.token_expires_at = None  # a token entered by hand: its expiry is learnt when it is refused
    if refresh_token:
        account.set_refresh_token(refresh_token)
    account.full_clean(validate_constraints=False)
    venue_for(account).account_changed(fields=set(fields), token=token or "")
    _unique_check(account)
    account.save()
    if {"enabled"} & set(fields) or token:
        schedules_sync()
    return account


def _unique_check(account: BrokerAccount) -> None:
    try:
        account.validate_constraints()
    except ValidationError as e:
        raise ValidationError(
            {"broker_account_id": [f"{account.broker_account_id!r} is already registered on this platform"]}
        ) from e


@sensitive_variables("token")
def account_set_token(account: BrokerAccount, token: str) -> None:
    account.set_token(token)
    account.save(update_fields=["token_encrypted", "token_hint", "updated_at"])
