"""The OANDA client of an account: one per account per process, so its HTTP connections stay alive."""

from __future__ import annotations

import threading

from django.conf import settings

from brokers.oanda import Budget, HostPacer, OandaClient
from ops.metrics.broker import broker_session
from trading.models import BrokerAccount

_clients: dict[tuple[int, str], OandaClient] = {}
_pacers: dict[str, HostPacer] = {}
_lock = threading.Lock()
_pacer_lock = threading.Lock()


def oanda_pacer(environment: str) -> HostPacer:
    """The host-wide budget of OANDA's per-IP limits for ``environment`` (one host per environment), shared by
    every process of this machine through small files under VAR_DIR/pacing."""
    pacer = _pacers.get(environment)
    if pacer is None:
        with _pacer_lock:
            pacer = _pacers.get(environment) or HostPacer(
                settings.VAR_DIR / "pacing",
                name=f"oanda-{environment}",
                requests=Budget(settings.OANDA_REQUESTS_PER_SECOND, 1.0),
                connections=Budget(settings.OANDA_NEW_CONNECTIONS_PER_SECOND, 1.0),
            )
            _pacers[environment] = pacer
    return pacer


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
        pacer = oanda_pacer(account.environment)  # before _lock: it takes its own
        with _lock:
            client = _clients.get(key)
            if client is None:
                base_url, stream_url = oanda_urls(account.environment)
                client = OandaClient(
                    base_url=base_url,
                    stream_url=stream_url,
                    token=account.get_token(),
                    account_id=account.broker_account_id,
                    pacer=pacer,
                    pool_size=settings.BROKER_IO_THREADS,
                    session=broker_session("oanda"),  # request latency and errors for /metrics
                )
                _clients[key] = client
    return client


def oanda_clients_reset() -> None:
    """Close and forget every cached client (settings changed: tests, a reloaded configuration)."""
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
    with _pacer_lock:
        _pacers.clear()
