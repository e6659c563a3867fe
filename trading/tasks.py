"""Celery tasks: thin wrappers that take ids and call one service."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from brokers.errors import BrokerTemporaryError


@shared_task(name="trading.tasks.execute_strategy", acks_late=True, reject_on_worker_lost=True, ignore_result=False)
def execute_strategy(instance_id: int) -> dict[str, Any]:
    from trading.services.execution import execution_run

    outcome = execution_run(instance_id=instance_id)
    return {"status": outcome.status, "execution_id": outcome.execution_id, "detail": outcome.detail}


@shared_task(name="trading.tasks.execute_bar_close", acks_late=True, reject_on_worker_lost=True, ignore_result=False)
def execute_bar_close(account_id: int, timeframe: int) -> dict[str, Any]:
    """Beat's bar-close run: every enabled instance of one account and timeframe, in one pass."""
    from trading.services.execution import execution_bar_close

    outcomes = execution_bar_close(account_id=account_id, timeframe=timeframe)
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    return {"account_id": account_id, "timeframe": timeframe, "outcomes": counts}


@shared_task(
    name="trading.tasks.orders_dispatch",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(BrokerTemporaryError,),
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=6,
)
def orders_dispatch_task(account_id: int, instrument_id: int) -> int:
    from trading.services.orders.dispatch import orders_dispatch

    return orders_dispatch(account_id=account_id, instrument_id=instrument_id)


@shared_task(name="trading.tasks.paper_account_tick", acks_late=True, ignore_result=True)
def paper_account_tick(account_id: int) -> None:
    from brokers.paper.simulate import paper_account_process, paper_revalue
    from trading.models import BrokerAccount

    account = BrokerAccount.objects.get(pk=account_id)
    if not paper_account_process(account, write_trades=True):
        # A strategy run already simulated this bar; still refresh each trade's open P/L and margin.
        paper_revalue(account, write_trades=True)


@shared_task(name="trading.tasks.market_tick", ignore_result=True)
def market_tick() -> int:
    """Every minute: extend the simulated feed, then let each paper account see the new bars."""
    from trading.models import Broker, BrokerAccount
    from trading.services.feed import feed_ensure_all

    added = feed_ensure_all()
    for account in BrokerAccount.objects.filter(broker=Broker.PAPER, enabled=True):
        paper_account_tick.apply_async(args=[account.pk], queue=account.queue_name)
    return added


@shared_task(name="trading.tasks.noop")
def noop() -> bool:
    """Does nothing: a health ping and the floor of the bar-close benchmark."""
    return True


from trading import tasks_oanda  # noqa: E402,F401 - registers the OANDA tasks with autodiscovery
