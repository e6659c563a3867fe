"""Current cTrader prices for strategy runs: the streamed price when fresh, else a snapshot from the server.

The stream (``manage.py ctrader_price_stream --account ID``) writes the same Redis hashes as OANDA's price
stream (one per symbol, one health hash), read by the same code. Its namespace is the account: two cTrader
brokers quote the same symbol differently, and a stream runs on one account's symbol list.
"""

from __future__ import annotations

from brokers.base import Quote
from trading.models import BrokerAccount, Instrument
from trading.services.orders.send import instrument_ref
from trading.venues.ctrader.client import ctrader_client
from trading.venues.oanda.prices import cached_quote, price_redis


def price_namespace(account: BrokerAccount) -> str:
    """The ``environment`` part of the shared price-cache keys for this account's stream."""
    return f"ctrader-{account.pk}"


def ctrader_quote(account: BrokerAccount, instrument: Instrument) -> Quote:
    client = price_redis()
    if client is not None:
        try:
            quote = cached_quote(client, price_namespace(account), instrument.symbol)
        except Exception:  # noqa: BLE001 - Redis away: the server still answers
            quote = None
        if quote is not None:
            return quote
    return ctrader_client(account).get_quote(instrument_ref(instrument))
