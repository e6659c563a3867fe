"""Use tested parameters on a live instance: write them into the tested instance, or into a new, disabled copy
of it (so a trader looks at it before it trades). Shared by optimisation passes and single backtests."""

from __future__ import annotations

from backtests.models import BacktestRun
from trading.exceptions import ApplicationError
from trading.models import StrategyInstance
from trading.services.instances import instance_create, instance_update


def parameters_apply(
    *, source: StrategyInstance, parameters: dict, create: bool = False, name: str
) -> StrategyInstance:
    """``parameters`` over ``source``'s own: in ``source`` itself, or in a disabled copy called ``name``."""
    merged = {**(source.parameters or {}), **parameters}
    if not create:
        return instance_update(source, parameters=merged)
    return instance_create(
        account=source.account,
        instrument=source.instrument,
        strategy_id=source.strategy_id,
        name=name[:100],
        timeframe=source.timeframe,
        parameters=merged,
        rates_slots=source.rates_slots,
        risk_percent=source.risk_percent,
        max_open_orders=source.max_open_orders,
        max_spread=source.max_spread,
        operational_mode=source.operational_mode,
        enabled=False,
    )


def backtest_run_apply(*, run: BacktestRun, create: bool = False, name: str | None = None) -> StrategyInstance:
    """The parameters a backtest ran with, into its instance or a disabled copy of it."""
    if run.instance is None:
        raise ApplicationError("the instance of this backtest was deleted")
    if run.instance.strategy_id != run.strategy_id:
        raise ApplicationError(
            f"instance #{run.instance.pk} now runs another strategy than the backtest did; start a new backtest"
        )
    return parameters_apply(
        source=run.instance,
        parameters=run.parameters or {},
        create=create,
        name=name or f"{run.instance.name} (backtest {run.pk})",
    )
