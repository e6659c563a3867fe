"""``manage.py health_check [--role strategy|worker|beat|price_stream] [--ready]`` for container healthchecks.

Without ``--ready``: exit 0 when a process of this host (the container) recorded a fresh heartbeat, so a
worker or beat container is healthy while its process is alive and beating. With ``--ready``: the platform's
readiness (the same checks as /health/ready), printed one per line.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from ops.health.checks import FAIL, overall, readiness
from ops.health.heartbeat import heartbeats, host_name


class Command(BaseCommand):
    help = "Exit 0 when this host's process is beating (or, with --ready, when the platform is ready)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--role", help="only a process of this role counts")
        parser.add_argument("--ready", action="store_true", help="check the whole platform's readiness instead")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        if options["ready"]:
            results = readiness(now)
            for r in results:
                age = f" ({r.age_seconds:.0f} s)" if r.age_seconds is not None else ""
                self.stdout.write(f"{r.status:4} {r.name}{age}: {r.detail}")
            if overall(results) == FAIL:
                raise CommandError("not ready")
            return
        host = host_name()
        mine = [
            b
            for b in heartbeats()
            if b.info.get("host") == host and (options["role"] is None or b.role == options["role"])
        ]
        fresh = [b for b in mine if not b.stopped and b.age(now) <= settings.OPS_HEARTBEAT_STALE_SECONDS]
        if not fresh:
            seen = ", ".join(f"{b.key} {b.age(now):.0f} s ago" for b in mine) or "none"
            raise CommandError(f"no fresh heartbeat from {host} (seen: {seen})")
        self.stdout.write(f"ok: {fresh[0].key} {fresh[0].age(now):.0f} s ago")
