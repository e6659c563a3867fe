"""OANDA v20 broker: REST client, candle backfill, host-wide pacing and the pricing stream consumer.

The fake v20 server used by the tests lives in ``tests/support/fake_oanda``.
"""

from brokers.oanda.candles import PLATFORM_ALIGNMENT, CandleAlignment
from brokers.oanda.client import OandaClient
from brokers.oanda.pacing import Budget, HostPacer, LocalPacer, Pacer, default_pacer
from brokers.oanda.schemas import OHLC, AccountChanges, AccountInfo, Candle, InstrumentSpec, OpenPosition
from brokers.oanda.symbols import from_broker_symbol, to_broker_symbol

__all__ = [
    "OHLC",
    "PLATFORM_ALIGNMENT",
    "AccountChanges",
    "AccountInfo",
    "Budget",
    "Candle",
    "CandleAlignment",
    "HostPacer",
    "InstrumentSpec",
    "LocalPacer",
    "OandaClient",
    "OpenPosition",
    "Pacer",
    "default_pacer",
    "from_broker_symbol",
    "to_broker_symbol",
]
