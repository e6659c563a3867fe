"""Celery tasks of the cTrader venue (found by the app's autodiscovery). Thin: ids in, one service call."""

from __future__ import annotations

from celery import shared_task

from brokers.errors import BrokerTemporaryError


@shared_task(
    name="trading.tasks.ctrader_bars_keep_current",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(BrokerTemporaryError,),
    retry_backoff=2,
    max_retries=3,
    expires=60,
)
def ctrader_bars_keep_current_task(instrument_id: int, timeframe: int) -> str:
    """Fetch the bars that closed since the newest stored one."""
    from trading.models import Instrument
    from trading.venues.ctrader.bars import bars_keep_current

    newest = bars_keep_current(instrument=Instrument.objects.get(pk=instrument_id), timeframe=timeframe)
    return newest.isoformat() if newest else ""
