"""The paper venue (see ``venue.py``)."""

from trading.venues.paper.venue import PaperVenue

__all__ = ["PaperVenue"]
