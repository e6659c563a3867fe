"""OANDA v20 broker: REST client, candle backfill, pricing stream consumer and a fake server for tests."""

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
