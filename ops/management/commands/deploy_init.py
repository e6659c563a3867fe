"""``manage.py deploy_init``: the one-shot step before the platform's processes start (compose's ``migrate``).

Migrates (which also writes every beat entry: the schedule sync runs after each ``migrate``), syncs the schedule
once more for an already-migrated database, and creates the first login from the environment when no user of
that name exists: ``ASIRIKUY_ADMIN_USERNAME`` (default ``admin``), ``ASIRIKUY_ADMIN_PASSWORD`` (or ``_FILE``),
``ASIRIKUY_ADMIN_EMAIL``. An existing user is never changed, so the password set after the first sign-in stays.
Safe to run on every start; it exits non-zero on any failure so the services that wait for it do not start.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from asirikuy_site.env import env_secret, env_str, refuse_placeholder


def ensure_admin(username: str, password: str | None, email: str) -> str:
    """Create superuser ``username`` once; say what was done."""
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        return f"admin: {username!r} exists already (left as it is)"
    if not password:
        return "admin: ASIRIKUY_ADMIN_PASSWORD is not set; create the first login with `manage.py createsuperuser`"
    refuse_placeholder("ASIRIKUY_ADMIN_PASSWORD", password)
    try:
        validate_password(password, user_model(username=username, email=email))
    except ValidationError as e:
        raise CommandError(f"ASIRIKUY_ADMIN_PASSWORD is refused: {' '.join(e.messages)}") from e
    with transaction.atomic():
        user_model.objects.create_superuser(username=username, email=email, password=password)
    return f"admin: superuser {username!r} created"


class Command(BaseCommand):
    help = "Migrate, write every beat entry, and create the first admin from the environment (safe to re-run)."

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=max(0, options["verbosity"] - 1))
        call_command("schedules_sync", stdout=self.stdout)
        username = env_str("ASIRIKUY_ADMIN_USERNAME") or "admin"
        email = env_str("ASIRIKUY_ADMIN_EMAIL") or ""
        self.stdout.write(ensure_admin(username, env_secret("ASIRIKUY_ADMIN_PASSWORD"), email))
