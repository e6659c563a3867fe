"""Which client talks to an account's broker. One client per account per process (keep-alive)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from brokers.base import BrokerClient, InstrumentRef
from trading.models import Broker, BrokerAccount, Instrument

_clients: dict[tuple[int, str], Any] = {}


def instrument_ref(instrument: Instrument) -> InstrumentRef:
    return InstrumentRef(
        symbol=instrument.symbol,
        broker_symbol=instrument.broker_symbol or f"{instrument.base_currency}_{instrument.quote_currency}",
        digits=instrument.digits,
        unit_precision=instrument.unit_precision,
    )


def broker_for(account: BrokerAccount) -> BrokerClient:
    if account.broker == Broker.PAPER:
        from brokers.paper import PaperBroker

        return PaperBroker(account)  # type: ignore[return-value]
    if account.broker == Broker.OANDA:
        key = (account.pk, account.token_hint + account.environment)
        client = _clients.get(key)
        if client is None:
            from brokers.oanda import OandaClient

            live = account.environment == "live"
            client = OandaClient(
                base_url=settings.OANDA_LIVE_URL if live else settings.OANDA_PRACTICE_URL,
                stream_url=settings.OANDA_LIVE_STREAM_URL if live else settings.OANDA_PRACTICE_STREAM_URL,
                token=account.get_token(),
                account_id=account.broker_account_id,
            )
            _clients[key] = client
        return client  # type: ignore[no-any-return]
    raise ValueError(f"account {account.pk} has an unknown broker {account.broker!r}")
