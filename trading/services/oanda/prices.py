"""Current OANDA prices for strategy runs."""

from __future__ import annotations

from brokers.base import Quote
from trading.models import BrokerAccount, Instrument
from trading.services.broker_clients import broker_for, instrument_ref


def oanda_quote(account: BrokerAccount, instrument: Instrument) -> Quote:
    return broker_for(account).get_quote(instrument_ref(instrument))
