"""The OANDA client of an account: one per account per process, so its HTTP connections stay alive."""

from __future__ import annotations

import threading

from django.conf import settings

from brokers.oanda import OandaClient
from trading.models import BrokerAccount

_clients: dict[tuple[int, str], OandaClient] = {}
_lock = threading.Lock()


def oanda_urls(environment: str) -> tuple[str, str]:
    """REST and stream base URLs of ``environment`` (tests point them at the fake v20 server)."""
    if environment == "live":
        return settings.OANDA_LIVE_URL, settings.OANDA_LIVE_STREAM_URL
    return settings.OANDA_PRACTICE_URL, settings.OANDA_PRACTICE_STREAM_URL


def oanda_client(account: BrokerAccount) -> OandaClient:
    """The account's client; a changed token or environment gets a new one."""
    key = (account.pk, account.token_hint + account.environment)
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.get(key)
            if client is None:
                base_url, stream_url = oanda_urls(account.environment)
                client = OandaClient(
                    base_url=base_url,
                    stream_url=stream_url,
                    token=account.get_token(),
                    account_id=account.broker_account_id,
                )
                _clients[key] = client
    return client


def oanda_clients_reset() -> None:
    """Close and forget every cached client (settings changed: tests, a reloaded configuration)."""
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
