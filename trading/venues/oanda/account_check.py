"""Check an OANDA token and account id against the chosen environment before the account is saved."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError

from brokers.errors import BrokerAuthError, BrokerError, BrokerNotFoundError, BrokerRejectedError
from brokers.oanda import OandaClient
from trading.venues.oanda.client import oanda_pacer, oanda_urls


@dataclass(frozen=True)
class AccountCheck:
    environment: str
    broker_account_id: str
    currency: str
    balance: Decimal
    hedging_enabled: bool
    last_transaction_id: str


def oanda_account_check(*, environment: str, broker_account_id: str, token: str) -> AccountCheck:
    """Ask OANDA whether ``token`` may use ``broker_account_id`` in ``environment``.

    Raises a ValidationError naming the field at fault (token, broker_account_id or environment) with
    OANDA's own reason.
    """
    if not token:
        raise ValidationError({"token": "an OANDA account needs its API token"})
    base_url, stream_url = oanda_urls(environment)
    client = OandaClient(
        base_url=base_url,
        stream_url=stream_url,
        token=token,
        account_id=broker_account_id,
        environment=environment,
        pacer=oanda_pacer(environment),
        max_retries=1,
        timeout=(5.0, 10.0),
    )
    try:
        state = client.check_credentials()
    except BrokerAuthError as e:
        raise ValidationError({"token": str(e)}) from None
    except BrokerNotFoundError as e:
        raise ValidationError({"broker_account_id": str(e)}) from None
    except BrokerRejectedError as e:  # e.g. an MT4-linked account: orders could not carry their magic number
        raise ValidationError({"broker_account_id": str(e)}) from None
    except BrokerError as e:
        raise ValidationError({"environment": f"could not reach OANDA {environment} at {base_url}: {e}"}) from None
    finally:
        client.close()
    return AccountCheck(
        environment=environment,
        broker_account_id=broker_account_id,
        currency=state.currency,
        balance=state.balance,
        hedging_enabled=state.hedging_enabled,
        last_transaction_id=state.last_transaction_id,
    )
