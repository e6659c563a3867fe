"""Optimisation: grid or random search over an instance's parameters, passes run in batches of Celery tasks.

Bounds and integrality come from the framework catalog (ParamSpec). The passes are sent as batches (one task
runs several passes, ``batch_size``) on the backtests queue, so they spread over every worker process of every
machine while a task loads the bars once for all its passes (per window layout: the parameters decide the
windows) instead of once per pass; the pass that finishes last marks the optimisation done (an atomic counter,
no chord result backend needed). A pass is claimed before it runs and counted only by the call that writes its
result, so redelivered tasks (acks_late) neither run a finished pass again nor count it twice.
"""

from __future__ import annotations

import itertools
import math
import socket
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

import numpy as np
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from backtests.engine.fast import run_fast
from backtests.engine.market import Costs, MarketData
from backtests.engine.parity import run_parity
from backtests.models import Engine, Optimization, OptimizationPass, RunStatus, SearchMethod
from backtests.services.apply import parameters_apply
from backtests.services.bounds import balance_validate, costs_validate
from backtests.services.data import instance_with_parameters, market_data
from backtests.services.runs import RunOutput, _json_safe, engine_run_stored, result_statistics
from framework import UnknownStrategyError, get_framework, get_strategy
from framework.pystrategy.registry import is_python_strategy
from trading.models import StrategyInstance
from trading.services.execution.inputs import instance_settings, slot_plans
from trading.services.quotas import quota_check

MAX_PASSES = 10_000
MAX_BATCH = 50  # passes per task at most
TASKS_PER_SEARCH = 16
OPEN_STATUSES = (RunStatus.PENDING, RunStatus.RUNNING)


class OptimizationError(ValueError):
    """A search space the catalog does not allow, or one with too many passes."""


MAX_AXIS_VALUES = 100_000  # values of one parameter (a random search draws from them)
MAX_SPACE_PARAMETERS = 50


def _number(name: str, key: str, value: object) -> float:
    """A finite number from the space, else an OptimizationError naming the parameter and key."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise OptimizationError(f"{name}.{key} must be a number (was {str(value)[:40]!r})")
    number = float(value) if abs(value) < 1e300 else math.inf
    if not math.isfinite(number):
        raise OptimizationError(f"{name}.{key} must be a finite number (was {str(value)[:40]})")
    return number


def _axis_rule(name: str, spec, rule) -> tuple[int, Callable[[], list[float]]]:
    """How many values one parameter takes, and how to build them: the count comes first, arithmetically,
    so a space too large is refused before any value exists (a step of 1e-5 would build millions).
    ``spec`` None: a foreign library's strategy (no catalog bounds; the library checks values), whose rule is a
    list or a full {min, max, step}, as an imported preset's ``,1`` ``,2`` ``,3`` lines give it."""
    param = None
    if spec is not None:
        try:
            param = spec.param(name)
        except KeyError:
            raise OptimizationError(f"{spec.name} has no parameter {name}") from None
    if isinstance(rule, list):
        if len(rule) > MAX_AXIS_VALUES:
            raise OptimizationError(f"{name}: at most {MAX_AXIS_VALUES} values (was {len(rule)})")
        values = [_number(name, f"[{k}]", v) for k, v in enumerate(rule)]
        return len(values), lambda: values
    if isinstance(rule, dict):
        unknown = set(rule) - {"min", "max", "step"}
        if unknown:
            raise OptimizationError(
                f"{name}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; use min, max, step"
            )
        if param is None and not {"min", "max", "step"} <= set(rule):
            raise OptimizationError(f"{name}: a foreign library's parameter needs min, max and step")
        lo = _number(name, "min", rule["min"] if param is None else rule.get("min", param.minimum))
        hi = _number(name, "max", rule["max"] if param is None else rule.get("max", param.maximum))
        default_step = 1 if param is None or param.integer else (hi - lo) / 10 or 1
        step = _number(name, "step", rule.get("step", default_step))
        if step <= 0 or hi < lo:
            raise OptimizationError(f"{name}: need min <= max and step > 0")
        span = (hi - lo) / step
        if not math.isfinite(span) or span + 1 > MAX_AXIS_VALUES:
            raise OptimizationError(
                f"{name}: min {lo}, max {hi}, step {step} give more than {MAX_AXIS_VALUES} values; use a larger step"
            )
        count = int(math.floor(span + 1e-9)) + 1
        return count, lambda: [round(lo + k * step, 10) for k in range(count)]
    raise OptimizationError(f"{name}: give a list of values or {{min, max, step}}")


def _axis(name: str, spec, build: Callable[[], list[float]]) -> list[float]:
    values = build()
    if spec is None:  # a foreign library's parameter: its library checks the values
        if not values:
            raise OptimizationError(f"{name}: no values")
        return values
    param = spec.param(name)
    for v in values:
        if not param.minimum <= v <= param.maximum or (param.integer and v != int(v)):
            kind = "integers " if param.integer else ""
            raise OptimizationError(f"{name} must be {kind}in [{param.minimum}, {param.maximum}] (was {v})")
    if not values:
        raise OptimizationError(f"{name}: no values")
    return values


def optimization_points(
    *, strategy_id: int, space: dict, method: str, samples: int = 0, seed: int = 0
) -> list[dict[str, float]]:
    """The parameter sets of a search: every grid combination, or ``samples`` uniform draws from the grid.

    The number of passes is known from the rules alone and checked against MAX_PASSES before a single value
    or pass is built.
    """
    try:
        spec = get_strategy(strategy_id)
    except UnknownStrategyError:
        spec = None  # a foreign library's strategy (e.g. an imported .set's optimisation space)
    if not isinstance(space, dict):
        raise OptimizationError("the search space must be an object {parameter: rule}")
    if not space:
        raise OptimizationError("the search space is empty")
    if len(space) > MAX_SPACE_PARAMETERS:
        raise OptimizationError(f"at most {MAX_SPACE_PARAMETERS} parameters in a search space (was {len(space)})")
    rules = {name: _axis_rule(name, spec, rule) for name, rule in space.items()}
    names = list(rules)
    if method == SearchMethod.GRID:
        total = math.prod(count for count, _ in rules.values())
        if total > MAX_PASSES:
            raise OptimizationError(f"{total} grid passes exceed {MAX_PASSES}")
    elif not 1 <= samples <= MAX_PASSES:
        raise OptimizationError(f"random search needs 1..{MAX_PASSES} samples")
    axes = {name: _axis(name, spec, build) for name, (_, build) in rules.items()}
    if method == SearchMethod.GRID:
        points = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes.values())]
    else:
        rng = np.random.default_rng(seed)
        points = [{name: axes[name][int(rng.integers(len(axes[name])))] for name in names} for _ in range(samples)]
    out = []
    for p in points:  # integers as ints, so the stored parameters read like the instance's own
        out.append(
            {k: (int(v) if (spec.param(k).integer if spec else float(v).is_integer()) else v) for k, v in p.items()}
        )
    return out


@transaction.atomic
def optimization_create(
    *,
    instance: StrategyInstance,
    space: dict,
    method: str = SearchMethod.GRID,
    samples: int = 0,
    seed: int = 0,
    start: datetime | None = None,
    end: datetime | None = None,
    costs: Costs | None = None,
    initial_balance: Decimal = Decimal("10000"),
    engine: str = Engine.FAST,
    owner=None,
    enforce_quota: bool = True,
) -> Optimization:
    """Record an optimisation and its pending passes (nothing is queued: see optimization_enqueue).

    ``enforce_quota=False`` only for a walk-forward's windows, whose passes were counted when it was created.
    """
    points = optimization_points(
        strategy_id=instance.strategy_id, space=space, method=method, samples=samples, seed=seed
    )
    if enforce_quota:
        quota_check(user=owner, quota="optimization_passes", adding=len(points))
    costs_validate(costs or Costs())
    balance_validate(initial_balance)
    opt = Optimization.objects.create(
        instance=instance,
        owner=owner,
        method=method,
        space=space,
        samples=samples,
        seed=seed,
        engine=engine,
        strategy_id=instance.strategy_id,
        symbol=instance.instrument.symbol,
        timeframe=instance.timeframe,
        base_parameters=instance.parameters or {},
        start=start,
        end=end,
        initial_balance=initial_balance,
        account_currency=instance.account.currency,
        costs=(costs or Costs()).as_json(),
        passes_total=len(points),
    )
    OptimizationPass.objects.bulk_create(
        [OptimizationPass(optimization=opt, index=i, parameters=p) for i, p in enumerate(points)]
    )
    return opt


def batch_size(passes: int) -> int:
    """Passes per task: about 16 tasks per search (enough to keep a few machines' worker processes busy and
    balanced), at most MAX_BATCH (a task's memory and run time stay bounded), at least one."""
    return max(1, min(MAX_BATCH, math.ceil(passes / TASKS_PER_SEARCH)))


def optimization_enqueue(*, optimization: Optimization) -> None:
    """Queue the pending passes in batches (one task each) once the current transaction commits."""
    from celery import group

    from backtests.tasks import optimization_batch_task

    ids = list(optimization.passes.filter(status=RunStatus.PENDING).order_by("index").values_list("pk", flat=True))
    size = batch_size(len(ids))
    batches = [ids[k : k + size] for k in range(0, len(ids), size)]
    Optimization.objects.filter(pk=optimization.pk).update(status=RunStatus.RUNNING)
    transaction.on_commit(lambda: group(optimization_batch_task.s(batch) for batch in batches).apply_async())


def optimization_pass_execute(*, pass_id: int) -> OptimizationPass:
    """Backtest one pass and store its statistics; the last pass to finish closes the optimisation."""
    return optimization_pass_run(pass_id=pass_id)[0]


def optimization_batch_execute(*, pass_ids: list[int]) -> list[OptimizationPass]:
    """Backtest several passes in this task, loading the bars once per window layout (BarCache)."""
    cache = BarCache()
    return [optimization_pass_run(pass_id=pk, cache=cache)[0] for pk in pass_ids]


class BarCache:
    """A task's MarketData by window layout: the passes of one search share instrument, range and costs; only
    their parameters differ, and those change the data only through the slots' windows (slot_plans). The most
    recent few layouts are kept (each is one copy of the bars)."""

    KEEP = 4

    def __init__(self) -> None:
        self.entries: dict[tuple, MarketData] = {}

    def output(self, *, inputs: Optimization, instance: StrategyInstance) -> RunOutput:
        """engine_run_stored's result for this pass, with the bars of an earlier pass of the same layout."""
        costs = Costs(**inputs.costs)
        key = tuple(
            (p.index, p.instrument.pk, p.timeframe, p.bars, p.required_timeframe, p.total_bars_required)
            for p in slot_plans(instance)
        )
        data = self.entries.pop(key, None)
        if data is None:
            data, _ = market_data(
                instance=instance,
                start=inputs.start,
                end=inputs.end,
                costs=costs,
                account_currency=inputs.account_currency,
            )
        self.entries[key] = data  # most recent last
        while len(self.entries) > self.KEEP:
            self.entries.pop(next(iter(self.entries)))
        settings = instance_settings(instance, is_backtesting=True)
        balance = float(inputs.initial_balance)
        if inputs.engine == Engine.FAST and not is_python_strategy(settings.strategy_id):
            result = run_fast(data=data, settings=settings, costs=costs, initial_balance=balance)
        else:
            result = run_parity(
                data=data,
                settings=settings,
                costs=costs,
                initial_balance=balance,
                account_currency=inputs.account_currency,
                framework=get_framework(),
            )
        start_time = int(data.close_time[data.first]) - data.slots[0].timeframe * 60
        return RunOutput(result=result, statistics=result_statistics(result, start_time))


def optimization_pass_run(*, pass_id: int, cache: BarCache | None = None) -> tuple[OptimizationPass, bool]:
    """Backtest one pass; returns it and whether this call closed the optimisation.

    Safe under redelivery (tasks are acks_late): a pass already done, failed or cancelled is not run again,
    and only the call whose result is written counts it, so the optimisation is closed exactly once. With a
    ``cache`` (a batch), the bars come from it when an earlier pass of the batch loaded the same windows.
    """
    claimed = OptimizationPass.objects.filter(pk=pass_id, status__in=OPEN_STATUSES).update(status=RunStatus.RUNNING)
    p = OptimizationPass.objects.select_related(
        "optimization__instance__instrument", "optimization__instance__account"
    ).get(pk=pass_id)
    if not claimed:
        return p, False
    opt = p.optimization
    started = time.perf_counter()
    fields: dict = {"finished_at": timezone.now(), "worker": socket.gethostname()}
    try:
        if opt.instance is None:
            raise ValueError("the instance of this optimisation was deleted")
        # the parameters recorded when the search was made (a walk-forward window's MODEL_ID among them)
        instance = instance_with_parameters(opt.instance, {**(opt.base_parameters or {}), **p.parameters})
        if cache is None:
            output = engine_run_stored(inputs=opt, instance=instance, start=opt.start, end=opt.end, engine=opt.engine)
        else:
            output = cache.output(inputs=opt, instance=instance)
        fields.update(
            status=RunStatus.DONE,
            statistics=_json_safe(output.statistics),
            bars_tested=len(output.result.time),
            error="",
        )
    except Exception as e:  # recorded on the pass; the other passes go on
        fields.update(status=RunStatus.FAILED, error=f"{type(e).__name__}: {e}")
    fields["duration_seconds"] = time.perf_counter() - started
    closed = False
    with transaction.atomic():
        # A second delivery running at the same time, or a cancel, finds the pass no longer RUNNING.
        if OptimizationPass.objects.filter(pk=p.pk, status=RunStatus.RUNNING).update(**fields):
            Optimization.objects.filter(pk=opt.pk).update(passes_done=F("passes_done") + 1)
            closed = bool(
                Optimization.objects.filter(
                    pk=opt.pk, status__in=OPEN_STATUSES, passes_done__gte=F("passes_total")
                ).update(status=RunStatus.DONE, finished_at=timezone.now())
            )
    p.refresh_from_db()
    return p, closed


def optimization_passes_sorted(
    *, optimization: Optimization, key: str = "net_profit", descending: bool = True
) -> list[OptimizationPass]:
    """Passes ordered by one statistic (passes without it last)."""
    passes = list(optimization.passes.all())
    with_value = [p for p in passes if isinstance((p.statistics or {}).get(key), int | float)]
    without = [p for p in passes if p not in with_value]
    with_value.sort(key=lambda p: (p.statistics[key], -p.index), reverse=descending)
    return with_value + without


def optimization_pass_apply(
    *, optimization_pass: OptimizationPass, create: bool = False, name: str | None = None
) -> StrategyInstance:
    """Write a pass's parameters into the optimised instance, or into a new instance like it."""
    source = optimization_pass.optimization.instance
    if source is None:
        raise OptimizationError("the instance of this optimisation was deleted")
    default = f"{source.name} (optimisation {optimization_pass.optimization_id} pass {optimization_pass.index})"
    return parameters_apply(
        source=source, parameters=optimization_pass.parameters, create=create, name=name or default[:100]
    )
