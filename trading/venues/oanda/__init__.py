"""The OANDA v20 venue (see ``venue.py``)."""

from trading.venues.oanda.venue import OandaVenue

__all__ = ["OandaVenue"]
