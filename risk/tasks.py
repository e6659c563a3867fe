"""Celery tasks of the risk app: thin wrappers around one service each, run every minute by beat."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="risk.tasks.orders_release_queued", acks_late=True, ignore_result=True)
def orders_release_queued() -> int:
    """Send orders queued while their market was closed, once it has opened."""
    from risk.services.market_hours import orders_release_queued as release

    return release()


@shared_task(name="risk.tasks.limits_enforce", acks_late=True, ignore_result=True)
def limits_enforce() -> list[int]:
    """Close everything in scopes whose drawdown reached a "close everything" limit."""
    from risk.services.monitor import limits_enforce as enforce

    return enforce()
