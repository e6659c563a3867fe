"""Bring an account up to date with its broker before a strategy reads it, through its venue.

Paper accounts simulate the bars that closed since the last run; remote brokers read the account state
and the transactions since the last one seen (fills, SL/TP closes, financing), so the framework gets the
instance's true open and closed orders.
"""

from __future__ import annotations

from datetime import datetime

from brokers.base import Quote
from trading.models import BrokerAccount, Instrument
from trading.venues import venue_for


def account_sync(account: BrokerAccount, *, now: datetime) -> None:
    """Sync ``account`` in place (the row is refreshed when the broker changed it)."""
    venue_for(account).account_sync(now=now)


def quote_for(account: BrokerAccount, instrument: Instrument) -> Quote:
    """The current bid/ask at the account's broker (a streamed price when the venue streams and it is fresh)."""
    return venue_for(account).quote(instrument)
