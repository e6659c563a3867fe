"""One strategy run at a bar close: claim, gather inputs, run the framework, record orders, dispatch.

Idempotent per (instance, bar): the Execution row is claimed first; a second delivery of the same bar
finds the claim and does nothing. Orders carry client ids derived from (instance, bar, row, intent),
and the order table's unique constraint makes a duplicate impossible even if two runs raced.
A strategy error is recorded on the execution; it never escapes to the worker loop.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from framework import FrameworkError, OrderSignal
from framework.errors import FrameworkInputError, SettingsError
from risk.services.guard import intents_check
from trading.bars.brokertime import from_framework_time
from trading.bars.guard import StaleDataError, bars_check_fresh
from trading.models import (
    Bar,
    Execution,
    ExecutionStatus,
    Order,
    OrderIntent,
    OrderStatus,
    StrategyInstance,
)
from trading.services.account_sync import account_sync, quote_for
from trading.services.bar_clock import fx_market_open, last_closed_bar_open
from trading.services.execution.book import instance_book
from trading.services.execution.inputs import (
    BROKER_TZ,
    NotEnoughBars,
    SlotPlan,
    account_info,
    bid_ask,
    build_slots,
    instance_settings,
    slot_plans,
)
from trading.services.execution.runner import framework_prepare
from trading.services.execution.translate import InstrumentSpec, Intent, signals_to_intents
from trading.services.feed import feed_ensure
from trading.services.orders.dispatch import orders_dispatch_after_commit
from trading.services.prices import PriceUnavailable, quote_to_account_rate

logger = logging.getLogger(__name__)
# A RUNNING claim older than this belongs to a run that died (the task time limit is shorter).
STALE_CLAIM = timedelta(seconds=300)


@dataclass(frozen=True)
class RunOutcome:
    status: str  # "ran", "failed", "skipped", "duplicate", "not_runnable", "market_closed"
    execution_id: int | None = None
    detail: str = ""


def _claim(instance: StrategyInstance, bar_time: datetime, now: datetime) -> tuple[Execution, bool]:
    try:
        if connection.in_atomic_block:  # a failed INSERT must not break the caller's transaction
            with transaction.atomic():
                return Execution.objects.create(instance=instance, bar_time=bar_time, started_at=now), True
        # Autocommit: the INSERT is its own transaction already (no BEGIN/COMMIT round trips around it).
        return Execution.objects.create(instance=instance, bar_time=bar_time, started_at=now), True
    except IntegrityError:
        existing = Execution.objects.get(instance=instance, bar_time=bar_time)
        if existing.status == ExecutionStatus.RUNNING and existing.started_at < now - STALE_CLAIM:
            taken = Execution.objects.filter(
                pk=existing.pk, status=ExecutionStatus.RUNNING, started_at=existing.started_at
            ).update(started_at=now, attempts=existing.attempts + 1)
            if taken:
                existing.refresh_from_db()
                return existing, True
        return existing, False


def _wait_for_bar(instance: StrategyInstance, bar_time: datetime) -> datetime | None:
    """The open time of the newest complete primary bar, waiting (bounded) for the expected one."""
    deadline = time.monotonic() + settings.BAR_WAIT_SECONDS
    while True:
        last = (
            Bar.objects.filter(instrument_id=instance.instrument_id, timeframe=instance.timeframe, complete=True)
            .order_by("-time")
            .values_list("time", flat=True)
            .first()
        )
        if (last is not None and last >= bar_time) or time.monotonic() >= deadline:
            return last
        time.sleep(0.25)


def _client_order_id(instance_id: int, bar_time: datetime, intent: Intent) -> str:
    return f"at{instance_id}-{int(bar_time.timestamp())}-{intent.row}{intent.kind[0]}{intent.seq}"


def _signal_json(signal: OrderSignal) -> dict[str, object]:
    return {
        "action": signal.action.value, "type": signal.order_type.name, "ticket": signal.ticket, "lots": signal.lots,
        "entry": signal.entry_price, "sl": signal.sl_distance, "tp": signal.tp_distance,
        "trailing": signal.trailing, "expiration": signal.expiration,
    }


def _finish(execution: Execution, started: float, **fields: object) -> None:
    fields["duration_ms"] = (time.perf_counter() - started) * 1000.0
    Execution.objects.filter(pk=execution.pk).update(**fields)


def execution_run(*, instance_id: int, now: datetime | None = None) -> RunOutcome:
    """Run ``instance_id`` for the bar that closed at ``now``."""
    now = now or timezone.now()
    instance = StrategyInstance.objects.select_related("account", "instrument").filter(pk=instance_id).first()
    if instance is None:
        return RunOutcome("not_runnable", detail=f"instance {instance_id} does not exist")
    if not (instance.enabled and instance.account.enabled and instance.operational_mode):
        return RunOutcome("not_runnable", detail="instance or account disabled")
    bar_time = last_closed_bar_open(now, instance.timeframe)
    if not instance.instrument.always_open and not fx_market_open(bar_time):
        return RunOutcome("market_closed", detail=f"bar {bar_time:%Y-%m-%d %H:%M} falls in the weekend or a holiday")
    plans = slot_plans(instance)
    for instrument in {p.instrument for p in plans} | {instance.instrument}:
        feed_ensure(instrument, now)
    last_bar = _wait_for_bar(instance, bar_time)
    execution, claimed = _claim(instance, bar_time, now)
    if not claimed:
        return RunOutcome("duplicate", execution.pk, f"bar already {execution.status}")
    started = time.perf_counter()
    try:
        return _run_claimed(instance, execution, now, last_bar, started, plans)
    except (StaleDataError, NotEnoughBars, PriceUnavailable) as e:
        _finish(execution, started, status=ExecutionStatus.SKIPPED, error=str(e))
        return RunOutcome("skipped", execution.pk, str(e))
    except FrameworkError as e:
        _finish(execution, started, status=ExecutionStatus.FAILED, return_code=e.code, error=str(e))
        return RunOutcome("failed", execution.pk, str(e))
    except (FrameworkInputError, SettingsError) as e:
        _finish(execution, started, status=ExecutionStatus.FAILED, error=f"invalid input: {e}")
        return RunOutcome("failed", execution.pk, str(e))
    except Exception as e:  # the worker must keep serving its queue whatever one run does
        logger.exception("instance %s: run for bar %s failed", instance_id, bar_time)
        _finish(execution, started, status=ExecutionStatus.FAILED, error=f"{type(e).__name__}: {e}")
        return RunOutcome("failed", execution.pk, str(e))


def _run_claimed(
    instance: StrategyInstance, execution: Execution, now: datetime, last_bar: datetime | None, started: float,
    plans: list[SlotPlan],
) -> RunOutcome:
    account, instrument = instance.account, instance.instrument
    bars_check_fresh(instrument_id=instrument.pk, timeframe=instance.timeframe, now=now, last_bar_time=last_bar)
    account_sync(account, now=now)
    quote = quote_for(account, instrument)
    settings_ = instance_settings(instance)
    fw = framework_prepare(instance.instance_id, settings_)
    slots = build_slots(plans, now=now, bid=float(quote.bid))
    rate = quote_to_account_rate(instrument, account.currency, price=quote.bid)
    book = instance_book(instance, contract_size=instrument.contract_size, capacity=settings_.order_info_array_size)
    current_time = int(slots[0].rates["time"][-1])
    signals = fw.run(
        instance_id=instance.instance_id, settings=settings_, symbol=instrument.symbol,
        account_currency=account.currency, broker_name=BROKER_TZ, ref_broker_name=BROKER_TZ,
        current_time=current_time, orders=book.infos, account=account_info(account, instrument),
        prices=bid_ask(quote.bid, quote.ask, rate), slots=slots,
    )
    translation = signals_to_intents(
        signals, positions=book.positions, bid=quote.bid, ask=quote.ask,
        spec=InstrumentSpec(digits=instrument.digits, contract_size=instrument.contract_size,
                            unit_precision=instrument.unit_precision, min_units=instrument.min_units),
    )
    # Guard rails: blocked entries are recorded (risk.BlockedSignal) and noted; exits always go on.
    translation = intents_check(instance=instance, execution=execution, translation=translation, bid=quote.bid,
                                ask=quote.ask, now=now)
    with transaction.atomic():
        orders = [
            Order(client_order_id=_client_order_id(instance.instance_id, execution.bar_time, intent),
                  **_order_fields(instance, execution, intent, book))
            for intent in translation.intents
        ]
        # A client id that already exists (a run that committed its orders, then lost its claim) is skipped.
        Order.objects.bulk_create(orders, ignore_conflicts=True)
        placed = len(orders) if execution.attempts == 1 else Order.objects.filter(execution=execution).count()
        _finish(
            execution, started, status=ExecutionStatus.SUCCESS, return_code=0, orders_placed=placed,
            signals=[_signal_json(s) for s in signals] + [{"note": n} for n in translation.notes],
        )
        if placed:
            orders_dispatch_after_commit(account=account, instrument_id=instance.instrument_id)
    return RunOutcome("ran", execution.pk, f"{len(signals)} signals, {placed} orders")


def _order_fields(instance: StrategyInstance, execution: Execution, intent: Intent, book: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "account_id": instance.account_id, "instance": instance, "instrument_id": instance.instrument_id,
        "execution": execution, "intent": {"open": OrderIntent.OPEN, "close": OrderIntent.CLOSE,
                                           "modify": OrderIntent.MODIFY, "cancel": OrderIntent.CANCEL}[intent.kind],
        "order_type": intent.order_type, "side": intent.side, "units": intent.units, "price": intent.price,
        "stop_loss": intent.stop_loss, "take_profit": intent.take_profit, "bar_time": execution.bar_time,
        "status": OrderStatus.NEW,
    }
    if intent.expires_at:
        fields["expires_at"] = from_framework_time(intent.expires_at, BROKER_TZ)
    if intent.target_ticket is not None:
        target = book.by_ticket[intent.target_ticket]  # type: ignore[attr-defined]
        if intent.kind == "cancel":
            fields["target"] = target
        else:
            fields["trade"] = target
    return fields


def execution_enqueue(instance: StrategyInstance) -> str:
    """Run now: send the instance's task to its account's pinned queue."""
    from trading.tasks import execute_strategy

    result = execute_strategy.apply_async(args=[instance.instance_id], queue=instance.account.queue_name)
    return str(result.id)


