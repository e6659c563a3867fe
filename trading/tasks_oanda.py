"""Celery tasks for OANDA accounts (imported by trading.tasks so autodiscovery registers them).

Thin wrappers: ids in, one service call. Beat entries come from ``oanda_schedules_sync``
(``manage.py oanda_schedules``); reconciliation also runs once when a broker_io worker starts.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from celery.signals import worker_ready

from brokers.errors import BrokerTemporaryError

logger = logging.getLogger(__name__)


@shared_task(
    name="trading.tasks.oanda_account_sync",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(BrokerTemporaryError,),
    retry_backoff=2,
    max_retries=3,
    expires=60,
)
def oanda_account_sync_task(account_id: int) -> int:
    from trading.models import BrokerAccount
    from trading.services.oanda.sync import oanda_account_sync

    return oanda_account_sync(BrokerAccount.objects.get(pk=account_id))


@shared_task(name="trading.tasks.oanda_orders_resolve", acks_late=True, ignore_result=True, expires=60)
def oanda_orders_resolve_task(account_id: int | None = None) -> dict[str, str]:
    from trading.services.oanda.orders import orders_resolve_unknown

    return {str(k): v for k, v in orders_resolve_unknown(account_id=account_id).items()}


@shared_task(
    name="trading.tasks.oanda_reconcile",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(BrokerTemporaryError,),
    retry_backoff=2,
    max_retries=3,
)
def oanda_reconcile_task(account_id: int | None = None) -> dict[str, Any]:
    from trading.models import Broker, BrokerAccount
    from trading.services.oanda.reconcile import reconcile_detect

    accounts = BrokerAccount.objects.filter(broker=Broker.OANDA, enabled=True).exclude(token_encrypted="")
    if account_id is not None:
        accounts = accounts.filter(pk=account_id)
    out: dict[str, Any] = {}
    for account in accounts:
        report = reconcile_detect(account)
        out[str(account.pk)] = {"open": report.open, "new": report.new, "gone": report.gone}
    return out


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
    from trading.models import Instrument
    from trading.services.oanda.bars import bars_await_close

    newest = bars_await_close(instrument=Instrument.objects.get(pk=instrument_id), timeframe=timeframe, timeout=50)
    return newest.isoformat() if newest else ""


@worker_ready.connect
def _reconcile_on_start(sender: Any = None, **_: Any) -> None:
    """Reconciliation on start: a worker serving broker_io reports differences found while we were away."""
    try:
        queues = {q.name for q in sender.task_consumer.queues} if sender is not None else set()
    except AttributeError:
        return
    if "broker_io" in queues:
        oanda_reconcile_task.apply_async(queue="broker_io")
