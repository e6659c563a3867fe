"""Which venue adapter serves each broker kind: the one line a new broker adds (beside its Broker choice).

Paths, not imports, so that loading the catalog loads no broker code; each venue is imported on first use.
"""

from __future__ import annotations

from trading.models import Broker

VENUES: dict[str, str] = {
    Broker.PAPER: "trading.venues.paper.PaperVenue",
    Broker.OANDA: "trading.venues.oanda.OandaVenue",
    Broker.CTRADER: "trading.venues.ctrader.CTraderVenue",
}


def venue_packages() -> list[str]:
    """The packages of every venue (their ``tasks`` modules are found by the Celery app's autodiscovery)."""
    return [path.rsplit(".", 1)[0] for path in VENUES.values()]
