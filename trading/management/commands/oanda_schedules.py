"""``manage.py oanda_schedules``: the earlier name of ``schedules_sync`` (every beat entry, all brokers)."""

from __future__ import annotations

from trading.management.commands.schedules_sync import Command as SchedulesSync


class Command(SchedulesSync):
    help = "Earlier name of schedules_sync: write every beat entry, OANDA accounts' included (safe to run again)."
