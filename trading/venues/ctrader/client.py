"""The cTrader connection of each server and the client of each account, kept per process.

One TLS connection per server (demo, live) carries every account of the process; each account has one client
with its token pair. A refreshed pair is written at once (the old refresh token is spent): through the caller's
database connection, and, when the caller is inside a transaction that could still roll back, also through a
connection of its own, so the new pair survives a rollback.
"""

from __future__ import annotations

import functools
import logging
import threading
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connection, connections

from brokers.ctrader import Connection, CTraderClient, Endpoint, TokenSet
from trading.crypto import token_encrypt, token_hint
from trading.models import BrokerAccount

logger = logging.getLogger(__name__)

_connections: dict[tuple[str, str], Connection] = {}
_clients: dict[int, CTraderClient] = {}
_lock = threading.Lock()


def ctrader_address(environment: str) -> str:
    return settings.CTRADER_LIVE_ADDRESS if environment == "live" else settings.CTRADER_DEMO_ADDRESS


def ctrader_connection(environment: str) -> Connection:
    """The process's connection to the server of ``environment`` (connected on first use)."""
    if not settings.CTRADER_CLIENT_ID or not settings.CTRADER_CLIENT_SECRET:
        raise ImproperlyConfigured(
            "cTrader needs the application's credentials: set CTRADER_CLIENT_ID and CTRADER_CLIENT_SECRET "
            "(register an application at https://openapi.ctrader.com/apps)"
        )
    address = ctrader_address(environment)
    key = (address, settings.CTRADER_CLIENT_ID)
    with _lock:
        found = _connections.get(key)
        if found is None:
            found = Connection(
                Endpoint.parse(address, ca_file=settings.CTRADER_CA_FILE or None),
                client_id=settings.CTRADER_CLIENT_ID,
                client_secret=settings.CTRADER_CLIENT_SECRET,
            )
            _connections[key] = found
        return found


def account_tokens(account: BrokerAccount) -> TokenSet:
    return TokenSet(account.get_token(), account.get_refresh_token(), account.token_expires_at)


def ctrader_client(account: BrokerAccount) -> CTraderClient:
    """The account's client; a token pair entered since (not one of our refreshes) gets a new client."""
    stored = account_tokens(account)
    with _lock:
        client = _clients.get(account.pk)
        if client is not None and (
            client.account_id != int(account.broker_account_id)
            or (stored.access_token != client.tokens.access_token and stored.access_token not in client.superseded)
        ):
            client = None
        if client is not None:
            return client
    fresh = CTraderClient(
        ctrader_connection(account.environment),
        account_id=int(account.broker_account_id),
        tokens=stored,
        on_tokens=functools.partial(tokens_store, account.pk),
    )
    with _lock:
        _clients[account.pk] = fresh
    return fresh


def tokens_store(account_id: int, tokens: TokenSet) -> None:
    """Write a refreshed pair (encrypted) so that a rollback of the caller cannot lose it."""
    fields: dict[str, str | datetime | None] = {
        "token_encrypted": token_encrypt(tokens.access_token),
        "token_hint": token_hint(tokens.access_token),
        "refresh_token_encrypted": token_encrypt(tokens.refresh_token) if tokens.refresh_token else "",
        "token_expires_at": tokens.expires_at,
    }
    if connection.in_atomic_block:
        _store_on_own_connection(account_id, fields)  # first: the caller's write below locks the row
    BrokerAccount.objects.filter(pk=account_id).update(**fields)


def _store_on_own_connection(account_id: int, fields: dict[str, str | datetime | None]) -> None:
    # A second connection to the same database as the caller's (its settings, so a test database too).
    mine = connections[DEFAULT_DB_ALIAS]
    own = type(mine)(dict(mine.settings_dict), alias=DEFAULT_DB_ALIAS)
    try:
        table = BrokerAccount._meta.db_table
        columns = ", ".join(f"{own.ops.quote_name(name)} = %s" for name in fields)
        with own.cursor() as cursor:
            if own.vendor == "postgresql":
                cursor.execute("SET lock_timeout = '2s'")  # the caller may hold the row: never wait on it
            cursor.execute(
                f"UPDATE {own.ops.quote_name(table)} SET {columns} WHERE id = %s",  # noqa: S608 - names quoted
                [*fields.values(), account_id],
            )
    except Exception as e:  # noqa: BLE001 - the caller's own write still carries the pair
        logger.error("cTrader account %s: refreshed tokens kept by the caller's transaction only (%s)", account_id, e)
    finally:
        own.close()


def ctrader_clients_reset() -> None:
    """Close every connection and forget every client (settings changed: tests, a reloaded configuration)."""
    with _lock:
        for conn in _connections.values():
            conn.close()
        _connections.clear()
        _clients.clear()
