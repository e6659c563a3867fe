"""The cTrader Open API venue (see ``venue.py``)."""

from trading.venues.ctrader.venue import CTraderVenue

__all__ = ["CTraderVenue"]
