"""Descriptions of beat entries: what the one schedule sync (``services.schedule``) writes.

Venues and platform services say which periodic jobs they need as plain values; only the schedule sync
turns them into django-celery-beat rows, so every beat entry has one owner.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Crontab:
    """A crontab in ``timezone`` (beat handles daylight saving for it)."""

    minute: str = "*"
    hour: str = "*"
    day_of_week: str = "*"
    day_of_month: str = "*"
    month_of_year: str = "*"
    timezone: str = "UTC"


EVERY_MINUTE = Crontab()


@dataclass(frozen=True)
class PeriodicJob:
    """One beat entry. Exactly one of ``every_seconds`` and ``crontab`` is set."""

    name: str
    task: str
    queue: str
    args: tuple[object, ...] = ()
    every_seconds: int | None = None
    crontab: Crontab | None = None
    expire_seconds: int | None = None
    enabled: bool = True
    description: str = ""

    def __post_init__(self) -> None:
        if (self.every_seconds is None) == (self.crontab is None):
            raise ValueError(f"periodic job {self.name!r} needs exactly one of every_seconds and crontab")
