"""cTrader Open API broker (Pepperstone, IC Markets and every other cTrader broker): our own TLS transport over
the official message definitions, a client per trading account, OAuth tokens."""

from brokers.ctrader.client import CTraderClient
from brokers.ctrader.connection import Connection
from brokers.ctrader.convert import SymbolSpec
from brokers.ctrader.pending import Endpoint
from brokers.ctrader.tokens import TokenSet

__all__ = ["CTraderClient", "Connection", "Endpoint", "SymbolSpec", "TokenSet"]
