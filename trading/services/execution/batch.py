"""One bar close of one account: every runnable instance in one pass, sharing what they have in common.

A Celery task per instance costs several milliseconds of overhead before any work; an account's instances
also share the account sync, the quote of each instrument, the kill switch and risk limits, and the bars of
each (instrument, timeframe). So beat sends one task per (account, timeframe) and this module runs the lot:
claim every (instance, bar) in one statement, read the shared inputs once, run each strategy, write all
orders and execution rows in one transaction, then dispatch once per instrument.

Each instance keeps its own Execution row (status, error, signals, duration); a failure of one instance is
recorded on its row and the others go on. Idempotency is per (instance, bar), as for a single run: a row
already claimed is left alone, and orders carry deterministic client ids under a unique constraint.

The claims are leased to this process while it works (``execution.lease``). A database or Redis error is not an
instance's outcome: the claims are given back and the error goes up, so the task retries the same bar.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from brokers.base import Quote
from framework import FrameworkError, RatesSlot
from framework.errors import FrameworkInputError, SettingsError
from framework.pystrategy.host import python_host
from framework.pystrategy.registry import is_python_strategy
from ops.logs import log_context_set
from risk.services.guard import RiskContext, intents_check, risk_context_load
from trading.bars.guard import StaleDataError, bars_check_fresh
from trading.bars.read import newest_complete_times
from trading.models import BrokerAccount, ExecutionStatus, Instrument, Order, StrategyInstance
from trading.services.account_sync import account_sync, quote_for
from trading.services.bar_clock import bar_close_time, fx_market_open, last_closed_bar_open
from trading.services.execution.book import BookRows, InstanceBook, instance_books
from trading.services.execution.claim import claim_is_live, executions_claim
from trading.services.execution.infra import is_infrastructure_error
from trading.services.execution.inputs import (
    BROKER_TZ,
    ORDER_INFO_SIZE,
    BarsMemo,
    NotEnoughBars,
    account_info,
    bid_ask,
    build_slots,
    instance_settings,
    slot_bars,
    slot_plans,
)
from trading.services.execution.jobs import Job, RunOutcome, job_fail
from trading.services.execution.lease import leases_hold
from trading.services.execution.orders import client_order_id, order_fields, signal_json
from trading.services.execution.runner import framework_for
from trading.services.execution.translate import InstrumentSpec, signals_to_intents
from trading.services.execution.writes import batch_write, claims_give_back
from trading.services.feed import feed_ensure
from trading.services.prices import PriceUnavailable, prices_memo, prices_prefetch, quote_to_account_rate
from trading.services.schedule import instance_is_runnable

logger = logging.getLogger(__name__)
__all__ = ["RunOutcome", "execution_bar_close", "execution_batch_run"]


@dataclass
class _Shared:
    """Inputs read once per batch."""

    account: BrokerAccount
    now: datetime
    last_bars: dict[tuple[int, int], datetime | None]
    quotes: dict[int, Quote | Exception] = field(default_factory=dict)
    rates: dict[int, Decimal] = field(default_factory=dict)
    bars: BarsMemo = field(default_factory=dict)
    risk: RiskContext | None = None
    books: dict[int, BookRows] | None = None
    instance_ids: list[int] = field(default_factory=list)
    stale: dict[tuple[int, int], StaleDataError | None] = field(default_factory=dict)  # bars_check_fresh's answers
    capacity: int = ORDER_INFO_SIZE  # the largest order-info array of the batch: one book read serves all


def execution_bar_close(
    *, account_id: int, timeframe: int, now: datetime | None = None, bar_time: datetime | None = None
) -> list[RunOutcome]:
    """Run every enabled instance of ``account_id`` on ``timeframe`` for one bar.

    The bar is ``bar_time`` (its open time) when given, as a retry or a re-queued bar close fixes it; otherwise
    the newest bar that closed at ``now``.
    """
    instances = list(
        StrategyInstance.objects.select_related("account", "instrument")
        .filter(account_id=account_id, timeframe=timeframe, enabled=True, account__enabled=True)
        .order_by("instance_id")
    )
    return execution_batch_run(instances, now=now or timezone.now(), bar_time=bar_time)


def execution_batch_run(
    instances: list[StrategyInstance], *, now: datetime, bar_time: datetime | None = None
) -> list[RunOutcome]:
    """Run ``instances`` (all of one account) for ``bar_time``, else the bar each last closed at ``now``."""
    if len({i.account_id for i in instances}) > 1:
        raise ValueError("a bar-close batch runs the instances of one account; group them by account first")
    outcomes: dict[int, RunOutcome] = {}
    jobs: list[Job] = []
    fixed_bar = bar_time
    if fixed_bar is not None and instances:
        # The run sees the market as it was while this bar was the newest closed one, never a later bar.
        next_close = bar_close_time(bar_close_time(fixed_bar, instances[0].timeframe), instances[0].timeframe)
        now = min(now, next_close - timedelta(microseconds=1))
    for instance in instances:
        bar_time = fixed_bar or last_closed_bar_open(now, instance.timeframe)
        if not instance_is_runnable(instance):
            outcomes[instance.instance_id] = RunOutcome("not_runnable", detail="instance or account disabled")
        elif not instance.instrument.always_open and not fx_market_open(bar_time):
            outcomes[instance.instance_id] = RunOutcome(
                "market_closed", detail=f"bar {bar_time:%Y-%m-%d %H:%M} falls in the weekend or a holiday"
            )
        else:
            jobs.append(_plan(instance, bar_time))
    if jobs:
        with prices_memo():  # the runs' quotes and the paper fills after commit read each bar once
            done = _run_jobs(jobs, now)
        for job in done:
            assert job.outcome is not None
            outcomes[job.instance.instance_id] = job.outcome
    return [_with_instance(outcomes[i.instance_id], i.instance_id) for i in instances]


def _with_instance(outcome: RunOutcome, instance_id: int) -> RunOutcome:
    return RunOutcome(outcome.status, outcome.execution_id, outcome.detail, instance_id)


def _plan(instance: StrategyInstance, bar_time: datetime) -> Job:
    job = Job(instance, bar_time)
    try:
        job.plans = slot_plans(instance)
    except Exception as e:  # bad slots are this instance's problem, recorded on its execution
        job.plan_error = e
    return job


def _run_jobs(jobs: list[Job], now: datetime) -> list[Job]:
    account = jobs[0].instance.account
    instruments: dict[int, Instrument] = {}
    for job in jobs:
        instruments[job.instance.instrument_id] = job.instance.instrument
        for plan in job.plans or []:
            instruments.setdefault(plan.instrument.pk, plan.instrument)
    for instrument in instruments.values():
        feed_ensure(instrument, now)
    last_bars = _wait_for_bars(jobs)
    claims = executions_claim([(job.instance, job.bar_time) for job in jobs], now)
    claimed: list[Job] = []
    for job in jobs:
        execution, mine = claims.get(job.instance.instance_id, (None, False))
        if execution is not None and not mine and claim_is_live(execution):
            job.outcome = RunOutcome("busy", execution.pk, f"bar is being run by {execution.holder}")
        elif execution is None or not mine:
            detail = f"bar already {execution.status}" if execution is not None else "bar already claimed"
            job.outcome = RunOutcome("duplicate", execution.pk if execution else None, detail)
        else:
            job.execution = execution
            claimed.append(job)
    if not claimed:
        return jobs
    with leases_hold([job.execution.pk for job in claimed if job.execution is not None]):
        try:
            _run_claimed(claimed, account, now, last_bars)
        except Exception as e:
            if is_infrastructure_error(e):
                claims_give_back(claimed)
            raise
    return jobs


def _run_claimed(
    claimed: list[Job], account: BrokerAccount, now: datetime, last_bars: dict[tuple[int, int], datetime | None]
) -> None:
    shared_started = time.perf_counter()
    shared = _Shared(
        account=account,
        now=now,
        last_bars=last_bars,
        instance_ids=[job.instance.instance_id for job in claimed],
        capacity=max(max(ORDER_INFO_SIZE, job.instance.max_open_orders + 1) for job in claimed),
    )
    try:
        # The quotes of the batch's instruments (and their conversions) in two queries, before the account sync
        # (the paper revaluation) and the runs read them.
        instruments = {job.instance.instrument_id: job.instance.instrument for job in claimed}
        instruments.update({plan.instrument.pk: plan.instrument for job in claimed for plan in job.plans or []})
        prices_prefetch(instruments.values(), account.currency)
        account_sync(account, now=now)
        for job in claimed:
            job.instance.account = account  # the synced row, shared
        _read_shared(shared, claimed)
    except Exception as e:  # every claimed instance records why; the worker keeps serving its queue
        if is_infrastructure_error(e):
            raise
        logger.exception("account %s: sync or shared reads before the bar close failed", account.pk)
        seconds = time.perf_counter() - shared_started
        for job in claimed:
            job.own_seconds = seconds / len(claimed)
            job_fail(
                job,
                status=ExecutionStatus.FAILED,
                error=f"account sync or shared reads failed: {type(e).__name__}: {e}",
            )
        batch_write(claimed, account, 0.0)
        return
    shared_seconds = time.perf_counter() - shared_started
    for job in claimed:
        started = time.perf_counter()
        _run_one(job, shared)
        job.own_seconds += time.perf_counter() - started
    write_started = time.perf_counter()
    batch_write(claimed, account, shared_seconds, write_started)


def _read_shared(shared: _Shared, jobs: list[Job]) -> None:
    """Quotes, rates, bars and books of the whole batch, read before the runs (their cost is shared evenly).

    The risk context is read later, once, by the first run with an entry to check (none: no read).
    """
    for instrument in {job.instance.instrument_id: job.instance.instrument for job in jobs}.values():
        try:
            _rate(shared, instrument, _quote(shared, instrument).bid)
        except Exception as e:  # read again by each instance of the instrument, which then records the error
            if is_infrastructure_error(e):
                raise
    for plan in {(p.instrument.pk, p.timeframe, p.bars): p for job in jobs for p in job.plans or []}.values():
        try:
            slot_bars(plan, now=shared.now, memo=shared.bars)
        except Exception as e:  # read again by the instance that needs it, which then records the error
            if is_infrastructure_error(e):
                raise
    shared.books = instance_books(shared.instance_ids, capacity=shared.capacity)


def _wait_for_bars(jobs: list[Job]) -> dict[tuple[int, int], datetime | None]:
    """Newest complete primary bar per (instrument, timeframe), waiting (bounded) for the expected ones."""
    wanted: dict[tuple[int, int], datetime] = {}
    for job in jobs:
        key = (job.instance.instrument_id, job.instance.timeframe)
        wanted[key] = max(wanted.get(key, job.bar_time), job.bar_time)
    deadline = time.monotonic() + settings.BAR_WAIT_SECONDS
    while True:
        last = newest_complete_times(list(wanted))
        missing = [key for key, bar_time in wanted.items() if (newest := last.get(key)) is None or newest < bar_time]
        if not missing or time.monotonic() >= deadline:
            return last
        time.sleep(0.25)


def _quote(shared: _Shared, instrument: Instrument) -> Quote:
    got = shared.quotes.get(instrument.pk)
    if got is None:
        try:
            got = quote_for(shared.account, instrument)
        except Exception as e:  # remembered, so every instance of this instrument records the same reason
            got = e
        shared.quotes[instrument.pk] = got
    if isinstance(got, Exception):
        raise got
    return got


def _rate(shared: _Shared, instrument: Instrument, bid: Decimal) -> Decimal:
    rate = shared.rates.get(instrument.pk)
    if rate is None:
        rate = shared.rates[instrument.pk] = quote_to_account_rate(instrument, shared.account.currency, price=bid)
    return rate


def _current_time(slots: list[RatesSlot | None]) -> int:
    """The run's time: the open time of slot 0's forming bar (slot 0, the primary series, is always built)."""
    primary = slots[0]
    if primary is None:
        raise ValueError("slot 0 (the primary series) has no bars")
    return int(primary.rates["time"][-1])


def _book(shared: _Shared, instance: StrategyInstance, capacity: int) -> InstanceBook:
    assert shared.books is not None  # read for the whole batch by _read_shared before any run
    rows = shared.books.get(instance.instance_id)
    if rows is None or rows.capacity < capacity:
        rows = instance_books([instance.instance_id], capacity=capacity)[instance.instance_id]
    return rows.for_instance(instance.instance_id, contract_size=instance.instrument.contract_size, capacity=capacity)


def _check_fresh(shared: _Shared, instrument_id: int, timeframe: int) -> None:
    """``bars_check_fresh`` once per (instrument, timeframe) of the batch: its answer is the same for all."""
    key = (instrument_id, timeframe)
    if key not in shared.stale:
        try:
            bars_check_fresh(
                instrument_id=instrument_id,
                timeframe=timeframe,
                now=shared.now,
                last_bar_time=shared.last_bars.get(key),
            )
            shared.stale[key] = None
        except StaleDataError as e:
            shared.stale[key] = e
    stale = shared.stale[key]
    if stale is not None:
        raise stale


def _run_one(job: Job, shared: _Shared) -> None:
    instance, execution = job.instance, job.execution
    log_context_set(instance=instance.instance_id)
    assert execution is not None
    try:
        if job.plan_error is not None:
            raise job.plan_error
        assert job.plans is not None
        _compute(job, shared)
    except (StaleDataError, NotEnoughBars, PriceUnavailable) as e:
        job_fail(job, status=ExecutionStatus.SKIPPED, error=str(e), outcome="skipped")
    except FrameworkError as e:
        job_fail(job, status=ExecutionStatus.FAILED, error=str(e), return_code=e.code)
    except (FrameworkInputError, SettingsError) as e:
        job_fail(job, status=ExecutionStatus.FAILED, error=f"invalid input: {e}", outcome_detail=str(e))
    except Exception as e:  # one instance's failure never stops the others (nor the worker)
        if is_infrastructure_error(e):
            raise  # not this instance's outcome: the whole batch is given back and retried
        logger.exception("instance %s: run for bar %s failed", instance.instance_id, job.bar_time)
        job_fail(job, status=ExecutionStatus.FAILED, error=f"{type(e).__name__}: {e}", outcome_detail=str(e))


def _compute(job: Job, shared: _Shared) -> None:
    instance, execution, plans = job.instance, job.execution, job.plans
    assert execution is not None and plans is not None
    account, instrument, now = shared.account, instance.instrument, shared.now
    _check_fresh(shared, instrument.pk, instance.timeframe)
    quote = _quote(shared, instrument)
    settings_ = instance_settings(instance)
    python = is_python_strategy(settings_.strategy_id)  # a Python strategy runs in this process, not in the C library
    fw = python_host() if python else framework_for(instance, settings_, now=now)  # ours in-process, else isolated
    slots = build_slots(plans, now=now, bid=float(quote.bid), memo=shared.bars)
    rate = _rate(shared, instrument, quote.bid)
    book = _book(shared, instance, settings_.order_info_array_size)
    signals = fw.run(
        instance_id=instance.instance_id,
        settings=settings_,
        symbol=instrument.symbol,
        account_currency=account.currency,
        broker_name=BROKER_TZ,
        ref_broker_name=BROKER_TZ,
        current_time=_current_time(slots),
        orders=book.infos,
        account=account_info(account, instrument),
        prices=bid_ask(quote.bid, quote.ask, rate),
        slots=slots,
    )
    translation = signals_to_intents(
        signals,
        positions=book.positions,
        bid=quote.bid,
        ask=quote.ask,
        spec=InstrumentSpec(
            digits=instrument.digits,
            contract_size=instrument.contract_size,
            unit_precision=instrument.unit_precision,
            min_units=instrument.min_units,
        ),
    )
    if any(intent.kind == "open" for intent in translation.intents) and shared.risk is None:
        shared.risk = risk_context_load(account_id=account.pk, instance_ids=shared.instance_ids)
    # Guard rails: blocked entries are recorded (risk.BlockedSignal) and noted; exits always go on.
    translation = intents_check(
        instance=instance,
        execution=execution,
        translation=translation,
        bid=quote.bid,
        ask=quote.ask,
        now=now,
        context=shared.risk,
        open_count=book.open_count,
    )
    job.orders = [
        Order(
            client_order_id=client_order_id(instance.instance_id, execution.bar_time, intent),
            **order_fields(instance, execution, intent, book),
        )
        for intent in translation.intents
    ]
    execution.status, execution.return_code = ExecutionStatus.SUCCESS, 0
    dropped = [{"note": d.describe()} for d in fw.last_dropped()]  # actions the strategy asked for, not emitted
    execution.signals = [signal_json(s) for s in signals] + dropped + [{"note": n} for n in translation.notes]
    job.outcome = RunOutcome("ran", execution.pk, f"{len(signals)} signals, {len(job.orders)} orders")
