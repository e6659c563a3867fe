"""Strategy execution at bar close."""

from trading.services.execution.service import RunOutcome, execution_bar_close, execution_enqueue, execution_run

__all__ = ["RunOutcome", "execution_bar_close", "execution_enqueue", "execution_run"]
