"""cTrader accounts for the venue's commands: find one, add one from a token pair (checked like any account)."""

from __future__ import annotations

from django.contrib.auth.models import User

from brokers.ctrader import TokenSet
from trading.models import Broker, BrokerAccount


def ctrader_account_get(account_id: int, *, enabled: bool = False) -> BrokerAccount | None:
    accounts = BrokerAccount.objects.filter(pk=account_id, broker=Broker.CTRADER)
    return (accounts.filter(enabled=True) if enabled else accounts).first()


def ctrader_account_add(
    *, owner: User, name: str, environment: str, broker_account_id: str, tokens: TokenSet
) -> BrokerAccount:
    """Raises ValidationError naming the field at fault (see ``account_check``)."""
    from trading.services.accounts import account_create

    return account_create(
        owner=owner,
        name=name,
        broker=Broker.CTRADER,
        environment=environment,
        broker_account_id=broker_account_id,
        token=tokens.access_token,
        refresh_token=tokens.refresh_token,
    )
