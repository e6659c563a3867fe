"""Celery tasks of the paper venue: the simulated market's minute tick (found by the app's autodiscovery)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="trading.tasks.paper_account_tick", acks_late=True, ignore_result=True)
def paper_account_tick(account_id: int) -> None:
    """One paper account sees the bars that closed since its last pass (on its pinned queue)."""
    from trading.venues.paper.simulate import paper_account_tick as tick

    tick(account_id)


@shared_task(name="trading.tasks.market_tick", ignore_result=True)
def market_tick() -> int:
    """Every minute: extend the simulated feed, then let each paper account see the new bars."""
    from trading.venues.paper.simulate import paper_market_tick

    return paper_market_tick(lambda account_id: paper_account_tick.delay(account_id))
