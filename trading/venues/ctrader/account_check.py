"""Check a cTrader account before it is saved: the application, the token pair, and the trading account id.

The token must open the trading account (``ProtoOAGetAccountListByAccessTokenReq`` lists what it opens), on the
server of the chosen environment (demo accounts on the demo server, live ones on the live server).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ImproperlyConfigured, ValidationError

from brokers.ctrader import CTraderClient, TokenSet
from brokers.ctrader.errors import ApplicationRefusedError, TokenExpiredError
from brokers.errors import BrokerAuthError, BrokerError, BrokerNotFoundError
from trading.venues.ctrader.client import ctrader_address, ctrader_connection


@dataclass(frozen=True)
class AccountCheck:
    currency: str
    balance: Decimal
    hedging: bool
    tokens: TokenSet  # refreshed when the given access token had expired
    trading_accounts: tuple[tuple[int, bool, int], ...]


def ctrader_account_check(*, environment: str, broker_account_id: str, tokens: TokenSet) -> AccountCheck:
    """Raises a ValidationError naming the field at fault (broker, token, broker_account_id, environment)."""
    if not tokens.access_token:
        raise ValidationError({"token": "a cTrader account needs its OAuth access token (and refresh token)"})
    try:
        connection = ctrader_connection(environment)
    except ImproperlyConfigured as e:
        raise ValidationError({"broker": str(e)}) from None
    refreshed: list[TokenSet] = []
    client = CTraderClient(connection, account_id=int(broker_account_id), tokens=tokens, on_tokens=refreshed.append)
    where = f"cTrader {environment} ({ctrader_address(environment)})"
    try:
        try:
            accounts = client.list_trading_accounts()
        except TokenExpiredError:
            client.refresh_tokens()
            accounts = client.list_trading_accounts()
        found = next((a for a in accounts if a[0] == int(broker_account_id)), None)
        if found is None:
            listed = ", ".join(f"{a} (login {login}, {'live' if live else 'demo'})" for a, live, login in accounts)
            raise ValidationError(
                {
                    "broker_account_id": f"the token does not open trading account {broker_account_id}; "
                    f"it opens: {listed or 'none'}"
                }
            )
        if found[1] != (environment == "live"):
            raise ValidationError(
                {
                    "environment": f"trading account {broker_account_id} is a {'live' if found[1] else 'demo'} "
                    f"account: choose {'live' if found[1] else 'practice (demo)'}"
                }
            )
        state = client.get_account_state()
    except ApplicationRefusedError as e:
        raise ValidationError({"broker": f"{where} refused the application (CTRADER_CLIENT_ID/SECRET): {e}"}) from None
    except BrokerAuthError as e:
        raise ValidationError({"token": f"{where} refused the token: {e}"}) from None
    except BrokerNotFoundError as e:
        raise ValidationError({"broker_account_id": str(e)}) from None
    except BrokerError as e:
        raise ValidationError({"environment": f"could not reach {where}: {e}"}) from None
    return AccountCheck(
        currency=state.currency,
        balance=state.balance,
        hedging=state.hedging_enabled,
        tokens=refreshed[-1] if refreshed else client.tokens,
        trading_accounts=tuple(accounts),
    )
