"""What a batch works with per instance: the job (its bar, inputs, execution, orders) and the outcome it reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from trading.models import Execution, Order, StrategyInstance
from trading.services.execution.inputs import SlotPlan


@dataclass(frozen=True)
class RunOutcome:
    # "ran", "failed", "skipped", "duplicate", "busy" (a live run elsewhere holds the bar), "missed",
    # "not_runnable", "market_closed"
    status: str
    execution_id: int | None = None
    detail: str = ""
    instance_id: int | None = None


@dataclass
class Job:
    instance: StrategyInstance
    bar_time: datetime
    plans: list[SlotPlan] | None = None
    plan_error: Exception | None = None
    execution: Execution | None = None
    own_seconds: float = 0.0  # this instance's own work; shared work is added in equal shares
    orders: list[Order] = field(default_factory=list)
    outcome: RunOutcome | None = None


def job_fail(
    job: Job,
    *,
    status: str,
    error: str,
    return_code: int | None = None,
    outcome: str = "failed",
    outcome_detail: str | None = None,
) -> None:
    execution = job.execution
    assert execution is not None
    execution.status, execution.error, execution.return_code = status, error, return_code
    job.orders = []
    job.outcome = RunOutcome(outcome, execution.pk, outcome_detail if outcome_detail is not None else error)
