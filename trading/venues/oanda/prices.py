"""Current OANDA prices for strategy runs: the streamed price when fresh, else a REST snapshot.

The price stream (``manage.py price_stream``) keeps one Redis hash per symbol and one health hash per
environment. A cached price is used when the stream of the account's environment is streaming and has
been heard from within ``OANDA_PRICE_MAX_AGE_SECONDS`` (a quiet market sends heartbeats, not prices, so
the price's own time may be older and still current). Both hashes come back in one Redis round trip.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from brokers.base import Quote
from brokers.oanda.stream import read_cached_price, read_stream_health
from trading.models import Broker, BrokerAccount, Instrument, StrategyInstance
from trading.services.orders.send import instrument_ref
from trading.venues.oanda.client import oanda_client

_redis: Any = None
_redis_lock = threading.Lock()


def price_key_prefix(environment: str) -> str:
    return f"asirikuy:price:{environment}:"


def stream_health_key(environment: str) -> str:
    return f"asirikuy:pricestream:{environment}:health"


def max_price_age() -> float:
    return float(settings.OANDA_PRICE_MAX_AGE_SECONDS)


def price_redis() -> Any:
    """One Redis client per process (REDIS_URL), or None when the platform runs without Redis."""
    global _redis
    url: str = settings.REDIS_URL or ""
    if _redis is None and url:
        with _redis_lock:
            if _redis is None:
                import redis

                _redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return _redis


def _fresh(health: dict[str, str], now: datetime, max_age: float) -> bool:
    if health.get("state") != "streaming" or not health.get("last_message_at"):
        return False
    heard = datetime.fromisoformat(health["last_message_at"])
    return (now - heard).total_seconds() <= max_age


def cached_quote(
    redis_client: Any, environment: str, symbol: str, *, max_age: float | None = None, now: datetime | None = None
) -> Quote | None:
    """The streamed quote of ``symbol`` if the stream is healthy and recent, else None (one round trip)."""
    pipe = redis_client.pipeline(transaction=False)
    pipe.hgetall(f"{price_key_prefix(environment)}{symbol}")
    pipe.hgetall(stream_health_key(environment))
    raw_price, raw_health = pipe.execute()
    if not raw_price:
        return None
    health = {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
        for k, v in raw_health.items()
    }
    if not _fresh(health, now or datetime.now(UTC), max_price_age() if max_age is None else max_age):
        return None
    return _quote_from_hash(raw_price, symbol)


def _quote_from_hash(raw: dict[Any, Any], symbol: str) -> Quote:
    class _One:  # read_cached_price parses a hash; hand it the one we already have
        def hgetall(self, _key: str) -> dict[Any, Any]:
            return raw

    quote = read_cached_price(_One(), symbol)
    assert quote is not None
    return quote


def stream_health(environment: str) -> dict[str, str]:
    client = price_redis()
    return read_stream_health(client, key=stream_health_key(environment)) if client is not None else {}


def stream_status(environment: str, now: datetime) -> dict[str, object] | None:
    """The stream of ``environment`` (a cache namespace): fresh (heard from within OANDA_PRICE_MAX_AGE_SECONDS
    while streaming), age and state; None without Redis."""
    if price_redis() is None:
        return None
    health = stream_health(environment)
    heard = health.get("last_message_at")
    age = (now - datetime.fromisoformat(heard)).total_seconds() if heard else None
    fresh = _fresh(health, now, max_price_age())
    return {"stream": environment, "fresh": fresh, "age": age, "state": health.get("state", "")}


def oanda_quote(account: BrokerAccount, instrument: Instrument) -> Quote:
    """The streamed price when fresh, else the broker's snapshot over REST."""
    client = price_redis()
    if client is not None:
        try:
            quote = cached_quote(client, account.environment, instrument.symbol)
        except Exception:  # noqa: BLE001 - Redis away: the REST snapshot still answers
            quote = None
        if quote is not None:
            return quote
    return oanda_client(account).get_quote(instrument_ref(instrument))


def stream_account(*, account_id: int | None = None, environment: str | None = None) -> BrokerAccount | None:
    """The OANDA account whose token the price stream uses: the first enabled one with a token (or the one named)."""
    accounts = BrokerAccount.objects.filter(broker=Broker.OANDA, enabled=True).exclude(token_encrypted="")
    if account_id:
        accounts = accounts.filter(pk=account_id)
    if environment:
        accounts = accounts.filter(environment=environment)
    return accounts.order_by("id").first()


def stream_symbols(account: BrokerAccount, given: str | None) -> list[str]:
    """The symbols to stream: those named, else those the environment's enabled instances trade, else all."""
    if given:
        return [s.strip().upper() for s in given.split(",") if s.strip()]
    used = StrategyInstance.objects.filter(
        account__broker=Broker.OANDA, account__environment=account.environment, enabled=True
    ).values_list("instrument__symbol", flat=True)
    return sorted(set(used)) or list(Instrument.objects.values_list("symbol", flat=True))
