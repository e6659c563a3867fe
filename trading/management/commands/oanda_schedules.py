"""``manage.py oanda_schedules``: write the beat entries of every OANDA account (sync, resolver, reconcile)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from trading.services.oanda.schedule import oanda_schedules_sync_all


class Command(BaseCommand):
    help = "Create or update the periodic tasks of every OANDA account (safe to run again)."

    def handle(self, *args, **options) -> None:
        count = oanda_schedules_sync_all()
        self.stdout.write(f"beat entries written for {count} OANDA account(s)")
