"""OANDA v20 broker: REST client, candle backfill and pricing stream consumer (the fake server for tests is tests/support/fake_oanda)."""

from brokers.oanda.client import OandaClient
from brokers.oanda.schemas import OHLC, AccountChanges, AccountInfo, Candle, InstrumentSpec, OpenPosition
from brokers.oanda.symbols import from_broker_symbol, to_broker_symbol

__all__ = [
    "OHLC",
    "AccountChanges",
    "AccountInfo",
    "Candle",
    "InstrumentSpec",
    "OandaClient",
    "OpenPosition",
    "from_broker_symbol",
    "to_broker_symbol",
]
