"""Backtest runs: create one (with its inputs), execute it with either engine, store the results."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
from django.db import transaction
from django.utils import timezone

from backtests.engine import stats
from backtests.engine.market import Costs
from backtests.engine.parity import EngineResult, run_parity
from backtests.engine.trade_table import TradeTable
from backtests.models import BacktestRun, BacktestTrade, Engine, RunStatus, StrategyInputs
from backtests.services.bounds import balance_validate, costs_validate, result_check
from backtests.services.data import instance_with_parameters, market_data
from backtests.services.queueing import job_enqueue
from framework import get_framework
from framework.pystrategy.registry import is_python_strategy
from trading.models import StrategyInstance
from trading.services.quotas import quota_check

MONEY = Decimal("0.000001")
CURVE_POINTS = 2000
Progress = Callable[[float], None]


@dataclass(frozen=True)
class RunOutput:
    result: EngineResult
    statistics: dict


def _money(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(MONEY, rounding=ROUND_HALF_EVEN)


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(int(seconds), tz=UTC)


def backtest_run_create(
    *,
    instance: StrategyInstance,
    start: datetime | None = None,
    end: datetime | None = None,
    costs: Costs | None = None,
    initial_balance: Decimal = Decimal("10000"),
    engine: str = Engine.PARITY,
    parameters: dict | None = None,
    owner=None,
) -> BacktestRun:
    """Record a pending backtest of ``instance`` (parameters override the instance's own)."""
    quota_check(user=owner, quota="backtests")
    costs = costs or Costs()
    costs_validate(costs)
    balance_validate(initial_balance)
    run = BacktestRun(
        instance=instance,
        owner=owner,
        engine=engine,
        strategy_id=instance.strategy_id,
        symbol=instance.instrument.symbol,
        timeframe=instance.timeframe,
        parameters={**(instance.parameters or {}), **(parameters or {})},
        start=start,
        end=end,
        initial_balance=initial_balance,
        account_currency=instance.account.currency,
        costs=costs.as_json(),
    )
    run.full_clean()
    run.save()
    return run


def engine_run(
    *,
    instance: StrategyInstance,
    start: datetime | None,
    end: datetime | None,
    costs: Costs,
    initial_balance: float,
    engine: str,
    account_currency: str,
    progress: Progress | None = None,
) -> RunOutput:
    """Load the bars and run one engine; nothing is stored."""
    data, settings = market_data(
        instance=instance, start=start, end=end, costs=costs, account_currency=account_currency
    )
    if engine == Engine.FAST and not is_python_strategy(settings.strategy_id):
        # The fast engine runs C strategies only; a Python strategy always takes the parity engine (its own
        # twin of the C loop would be a second implementation of every rule).
        from backtests.engine.fast import run_fast

        result = run_fast(data=data, settings=settings, costs=costs, initial_balance=initial_balance)
    else:
        result = run_parity(
            data=data,
            settings=settings,
            costs=costs,
            initial_balance=initial_balance,
            account_currency=account_currency,
            framework=get_framework(),
            progress=(lambda done, total: progress(done / max(total, 1))) if progress else None,
        )
    return RunOutput(
        result=result, statistics=result_statistics(result, data.close_time[data.first] - data.slots[0].timeframe * 60)
    )


def engine_run_stored(
    *,
    inputs: StrategyInputs,
    instance: StrategyInstance,
    start: datetime | None,
    end: datetime | None,
    engine: str,
    progress: Progress | None = None,
) -> RunOutput:
    """``engine_run`` with the costs, initial balance and account currency recorded on a stored run, search or
    report, so what was recorded is what runs."""
    return engine_run(
        instance=instance,
        start=start,
        end=end,
        costs=Costs(**inputs.costs),
        initial_balance=float(inputs.initial_balance),
        engine=engine,
        account_currency=inputs.account_currency,
        progress=progress,
    )


def result_statistics(result: EngineResult, start_time: int | None = None) -> dict:
    if isinstance(result.trades, TradeTable):  # the fast engine's rows: two columns, no tuples
        profits, sides = result.trades.profits_and_sides_by_close()
    else:
        trades = sorted(result.trades, key=lambda t: (t.close_time, t.ticket))
        profits, sides = [t.profit for t in trades], [t.side for t in trades]
    # Absurd numbers fail the run here, before statistics or rows are made of them.
    result_check(result.balance, result.equity, profits)
    return stats.compute(
        profits=profits,
        sides=sides,
        time=result.time,
        balance=result.balance,
        equity=result.equity,
        in_market=result.in_market,
        initial=result.initial_balance,
        start_time=start_time,
    )


def _curve(result: EngineResult) -> dict:
    n = len(result.time)
    index = np.unique(np.linspace(0, n - 1, min(n, CURVE_POINTS)).astype(np.int64)) if n else np.zeros(0, np.int64)
    return {
        "time": [int(t) for t in result.time[index]],
        "balance": [round(float(v), 2) for v in result.balance[index]],
        "equity": [round(float(v), 2) for v in result.equity[index]],
    }


def _json_safe(values: dict) -> dict:
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in values.items()}


def backtest_run_execute(*, run_id: int, progress: Progress | None = None) -> BacktestRun:
    """Run a stored backtest and store its trades, statistics and curve (marks it failed on an error)."""
    run = BacktestRun.objects.select_related("instance__instrument", "instance__account").get(pk=run_id)
    BacktestRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, started_at=timezone.now(), error="")
    fw = get_framework()
    started = time.perf_counter()
    try:
        if run.instance is None:
            raise ValueError("the instance of this backtest was deleted")
        instance = instance_with_parameters(run.instance, run.parameters)
        output = engine_run_stored(
            inputs=run, instance=instance, start=run.start, end=run.end, engine=run.engine, progress=progress
        )
        _store(run, output, fw, time.perf_counter() - started)
    except Exception as e:  # recorded on the run, whatever failed (engine, results, storing); the caller reports it
        BacktestRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, error=f"{type(e).__name__}: {e}", finished_at=timezone.now()
        )
        raise
    run.refresh_from_db()
    return run


@transaction.atomic
def _store(run: BacktestRun, output: RunOutput, fw, duration: float) -> None:
    result = output.result
    digits = run.instance.instrument.digits if run.instance else 5

    def price(points: int) -> Decimal:
        return Decimal(int(points)).scaleb(-digits)

    def level(points: int) -> Decimal | None:
        """A stop-loss or take-profit level: 0 points is none."""
        return price(points) if points else None

    balance = float(result.initial_balance)
    rows = []
    for t in sorted(result.trades, key=lambda t: (t.close_time, t.ticket)):
        balance += t.profit
        rows.append(
            BacktestTrade(
                run=run,
                ticket=t.ticket,
                side=t.side,
                order_type=t.order_type,
                units=Decimal(repr(t.units)).quantize(MONEY),
                open_time=_utc(t.open_time),
                close_time=_utc(t.close_time),
                open_price=price(t.open_price),
                close_price=price(t.close_price),
                stop_loss=level(t.stop_loss),
                take_profit=level(t.take_profit),
                pl=_money(t.pl),
                commission=_money(t.commission),
                swap=_money(t.swap),
                profit=_money(t.profit),
                balance=_money(balance),
                close_reason=t.reason,
            )
        )
    BacktestTrade.objects.filter(run=run).delete()
    BacktestTrade.objects.bulk_create(rows, batch_size=2000)
    BacktestRun.objects.filter(pk=run.pk).update(
        status=RunStatus.DONE,
        progress=1.0,
        statistics=_json_safe(output.statistics),
        curve=_curve(result),
        bars_tested=len(result.time),
        rejected_orders=result.rejected,
        duration_seconds=duration,
        first_bar=_utc(result.time[0]) if len(result.time) else None,
        last_bar=_utc(result.time[-1]) if len(result.time) else None,
        library_path=str(fw.library_path),
        library_version=".".join(map(str, fw.version)),
        finished_at=timezone.now(),
    )


def backtest_run_enqueue(*, run: BacktestRun) -> BacktestRun:
    """Queue ``run`` on Celery once the current transaction commits; its task id is stored on the row."""
    from backtests.tasks import backtest_run_task

    return job_enqueue(job=run, task=backtest_run_task)


def backtest_run_progress(*, run_id: int, fraction: float) -> None:
    BacktestRun.objects.filter(pk=run_id).update(progress=round(fraction, 4))
