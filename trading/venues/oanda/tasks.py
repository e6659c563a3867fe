"""Celery tasks of the OANDA venue (found by the app's autodiscovery). Thin: ids in, one service call."""

from __future__ import annotations

from celery import shared_task

from brokers.errors import BrokerTemporaryError


@shared_task(
    name="trading.tasks.oanda_bars_keep_current",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(BrokerTemporaryError,),
    retry_backoff=2,
    max_retries=3,
    expires=60,
)
def oanda_bars_keep_current_task(instrument_id: int, timeframe: int) -> str:
    """Fetch the candle that just closed (waits, bounded, for a late one)."""
    from trading.models import Instrument
    from trading.venues.oanda.bars import bars_await_close

    newest = bars_await_close(instrument=Instrument.objects.get(pk=instrument_id), timeframe=timeframe, timeout=50)
    return newest.isoformat() if newest else ""
