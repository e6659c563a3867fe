"""The Celery app, configured from Django settings (CELERY_* names)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "asirikuy_site.settings")

app = Celery("asirikuy")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

from trading.queues import AccountQueues  # noqa: E402  (needs the app defined first)

app.steps["consumer"].add(AccountQueues)
