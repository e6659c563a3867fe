from __future__ import annotations

from django.db import models
from django.db.models import Q

from trading.models.enums import ExecutionStatus
from trading.models.instances import StrategyInstance


class Execution(models.Model):
    """One strategy run for one bar. Unique per (instance, bar_time): the claim that makes runs idempotent."""

    instance = models.ForeignKey(StrategyInstance, on_delete=models.CASCADE, related_name="executions")
    bar_time = models.DateTimeField(help_text="Open time (UTC) of the last complete primary bar the run used")
    status = models.CharField(max_length=8, choices=ExecutionStatus.choices, default=ExecutionStatus.RUNNING)
    started_at = models.DateTimeField()
    duration_ms = models.FloatField(null=True, blank=True)
    return_code = models.IntegerField(null=True, blank=True)
    signals = models.JSONField(default=list, blank=True)
    orders_placed = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=1)
    error = models.TextField(blank=True)
    # The lease of a RUNNING claim: the process holding it ("host:pid") renews ``lease_until`` every few seconds
    # while it runs; once it lapses the run is known dead and the sweeper re-queues or finishes the bar.
    holder = models.CharField(max_length=80, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-bar_time", "-id"]
        constraints = [models.UniqueConstraint(fields=["instance", "bar_time"], name="unique_execution_per_bar")]
        indexes = [
            models.Index(fields=["instance", "-bar_time"]),
            # The sweeper's scan of live claims: only RUNNING rows are in it, so it stays a few rows small.
            models.Index(fields=["lease_until"], name="execution_running_lease", condition=Q(status="running")),
        ]

    def __str__(self) -> str:
        return f"#{self.instance_id} @ {self.bar_time:%Y-%m-%d %H:%M} {self.status}"
