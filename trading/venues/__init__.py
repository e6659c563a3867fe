"""Venue adapters: how the domain reaches each broker kind (see ``base.py``)."""

from __future__ import annotations

from functools import cache
from importlib import import_module

from trading.models import BrokerAccount
from trading.services.periodic import PeriodicJob
from trading.venues.base import Capabilities, Venue
from trading.venues.catalog import VENUES

__all__ = ["Capabilities", "PeriodicJob", "Venue", "venue_class", "venue_for", "venue_kinds"]


@cache
def venue_class(kind: str) -> type[Venue]:
    """The venue adapter of broker kind ``kind``; ValueError for a kind the catalog does not know."""
    try:
        path = VENUES[kind]
    except KeyError:
        raise ValueError(f"no venue adapter for broker {kind!r}; known: {', '.join(sorted(VENUES))}") from None
    module, _, name = path.rpartition(".")
    cls = getattr(import_module(module), name)
    if not (isinstance(cls, type) and issubclass(cls, Venue)) or cls.kind != kind:
        raise TypeError(f"{path} is not the Venue of broker {kind!r}")
    return cls


def venue_for(account: BrokerAccount) -> Venue:
    """The venue adapter of ``account``'s broker, bound to that account."""
    return venue_class(account.broker)(account)


def venue_kinds() -> list[type[Venue]]:
    """Every venue adapter in the catalog."""
    return [venue_class(kind) for kind in VENUES]
