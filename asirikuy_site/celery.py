"""The Celery app, configured from Django settings (CELERY_* names)."""

from __future__ import annotations

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "asirikuy_site.settings")

app = Celery("asirikuy")
app.config_from_object("django.conf:settings", namespace="CELERY")


def _task_packages() -> list[str]:
    from django.conf import settings

    from trading.venues.catalog import venue_packages

    return [*settings.INSTALLED_APPS, *venue_packages()]


app.autodiscover_tasks(_task_packages)

from trading.queues import AccountQueues  # noqa: E402  (needs the app defined first)

app.steps["consumer"].add(AccountQueues)


@signals.worker_init.connect
def _load_python_strategies(**_: object) -> None:
    """Load the Python strategy folders when a worker starts: a broken file is logged (and listed by the
    catalog API's load errors), never fatal. New or changed files need a worker restart."""
    from framework.pystrategy import load_strategies

    load_strategies()


@signals.task_prerun.connect
@signals.task_postrun.connect
def _database_connections_checked(task: object = None, **_: object) -> None:
    """Around each task, as Django does around each request: a connection past CONN_MAX_AGE, or one that failed
    (a PostgreSQL restart) and is no longer usable, is closed, so the next query opens a fresh one. Eager tasks
    run inside the caller's connection and transaction, which are left alone."""
    request = getattr(task, "request", None)
    if getattr(request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
