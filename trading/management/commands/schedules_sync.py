"""``manage.py schedules_sync``: write every beat entry (bar closes, broker jobs, risk) from the database.

It also runs after every ``migrate`` and every change of an instance or account; run it by hand only to
repair a schedule edited in the admin. Safe to run again.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django_celery_beat.models import PeriodicTask

from trading.services.schedule import schedules_sync


class Command(BaseCommand):
    help = "Create, update and remove the platform's beat entries so they match the database (safe to run again)."

    def handle(self, *args: Any, **options: Any) -> None:
        schedules_sync()
        enabled = PeriodicTask.objects.filter(enabled=True).count()
        self.stdout.write(f"beat schedule in step: {enabled} enabled entries")
