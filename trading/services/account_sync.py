"""Bring an account up to date with its broker before a strategy reads it.

Paper accounts simulate the bars that closed since the last run. Real brokers read the account state
and the transactions since the last one seen (fills, SL/TP closes, financing), so the framework gets
the instance's true open and closed orders.
"""

from __future__ import annotations

from datetime import datetime

from brokers.base import Quote
from trading.models import Broker, BrokerAccount, Instrument
from trading.services.broker_clients import broker_for, instrument_ref


def account_sync(account: BrokerAccount, *, now: datetime) -> None:
    if account.broker == Broker.PAPER:
        from brokers.paper.simulate import paper_account_process

        if paper_account_process(account, until=now):
            account.refresh_from_db()
    elif account.broker == Broker.OANDA:
        from trading.services.oanda.sync import oanda_account_sync

        oanda_account_sync(account)
        account.refresh_from_db()


def quote_for(account: BrokerAccount, instrument: Instrument) -> Quote:
    """The current bid/ask: the streamed price when it is fresh, else the broker's snapshot."""
    if account.broker == Broker.OANDA:
        from trading.services.oanda.prices import oanda_quote

        return oanda_quote(account, instrument)
    if account.broker == Broker.PAPER:
        from trading.services.prices import last_price

        price = last_price(instrument)
        return Quote(symbol=instrument.symbol, bid=price.bid, ask=price.ask, time=price.time)
    return broker_for(account).get_quote(instrument_ref(instrument))
