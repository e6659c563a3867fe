"""Beat entries the OANDA venue needs beyond every remote venue's (history sync, resolver, reconciliation).

One bar-close entry per (instrument, timeframe) that enabled OANDA instances read: it fetches the candle
that just closed, so the strategy run of that bar finds it stored. Written by ``services.schedule``.
"""

from __future__ import annotations

from trading.models import Broker, StrategyInstance
from trading.queues import Queue
from trading.services.periodic import PeriodicJob


def oanda_bar_jobs() -> list[PeriodicJob]:
    from trading.services.schedule import bar_close_crontab

    wanted = set(
        StrategyInstance.objects.filter(account__broker=Broker.OANDA, enabled=True).values_list(
            "instrument_id", "timeframe"
        )
    )
    return [
        PeriodicJob(
            name=f"oanda bars {instrument_id}/{timeframe}",
            task="trading.tasks.oanda_bars_keep_current",
            queue=Queue.BROKER_IO,
            args=(instrument_id, timeframe),
            crontab=bar_close_crontab(timeframe),
            expire_seconds=max(30, min(timeframe * 60, 3600)),
            description="Fetch the bar that just closed from OANDA (waits, bounded, for a late candle)",
        )
        for instrument_id, timeframe in sorted(wanted)
    ]
