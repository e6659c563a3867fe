"""Strategy execution at bar close."""

from trading.services.execution.service import RunOutcome, execution_enqueue, execution_run

__all__ = ["RunOutcome", "execution_enqueue", "execution_run"]
