"""Queueing a stored piece of work (a run, a walk-forward, a drift report) as one Celery task after commit."""

from __future__ import annotations

from typing import TypeVar
from uuid import uuid4

from celery import Task
from django.db import transaction

from backtests.models import Job

J = TypeVar("J", bound=Job)


def job_enqueue(*, job: J, task: Task) -> J:
    """Send ``task(job.pk)`` once the current transaction commits; the task id is stored on the row first,
    so the row names its task (Flower, revoke) even before a worker picks it up."""
    task_id = str(uuid4())
    type(job)._default_manager.filter(pk=job.pk).update(task_id=task_id)
    job.task_id = task_id
    transaction.on_commit(lambda: task.apply_async(args=(job.pk,), task_id=task_id))
    return job
