"""The paper broker: simulated fills against stored bars, state kept in the database."""

from brokers.paper.client import PaperBroker

__all__ = ["PaperBroker"]
