"""The one step before ``docker compose up`` (scripts/make_env.py), the placeholders it replaces, and the migrate
step's first admin (manage.py deploy_init)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from deploy.smoke.compose import read_env_file
from ops.management.commands.deploy_init import ensure_admin

ROOT = Path(__file__).resolve().parents[2]


def _settings_load(**overrides: str) -> subprocess.CompletedProcess[str]:
    """Import the real settings in production mode with these variables changed (a fresh process each time)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "asirikuy_site.settings", **overrides}
    code = "import django; django.setup(); print('loaded')"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DJANGO_SECRET_KEY", "change-me-to-50-random-characters", "DJANGO_SECRET_KEY is still a placeholder"),
        ("ASIRIKUY_TOKEN_KEYS", "", "ASIRIKUY_TOKEN_KEYS (or ASIRIKUY_TOKEN_KEYS_FILE) must be set"),
        ("ASIRIKUY_TOKEN_KEYS", "change-me", "ASIRIKUY_TOKEN_KEYS is still a placeholder"),
        ("ASIRIKUY_METRICS_TOKEN", "change-me", "ASIRIKUY_METRICS_TOKEN is still a placeholder"),
    ],
)
def test_production_refuses_placeholders_and_missing_keys_with_what_to_run(variable, value, message):
    done = _settings_load(ASIRIKUY_MODE="production", **{variable: value})
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and message in done.stderr
    assert "scripts/make_env.py" in done.stderr
    assert "loaded" not in done.stdout


def test_a_database_password_left_as_the_placeholder_is_refused():
    url = os.environ["DATABASE_URL"].replace("postgresql://asirikuy@", "postgresql://asirikuy:change-me@")
    done = _settings_load(ASIRIKUY_MODE="production", DATABASE_URL=url)
    assert done.returncode != 0 and "the password in DATABASE_URL is still a placeholder" in done.stderr


def test_make_env_writes_private_generated_values_that_production_accepts_and_never_overwrites(tmp_path):
    env_path = tmp_path / ".env"
    first = subprocess.run(
        [sys.executable, "scripts/make_env.py", "--domain", "trader.example.com", "--output", str(env_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert first.returncode == 0, first.stderr
    assert stat.S_IMODE(env_path.stat().st_mode) == 0o600
    values = read_env_file(env_path)
    assert values["DJANGO_CSRF_TRUSTED_ORIGINS"] == "https://trader.example.com"
    assert "DJANGO_SECURE_COOKIES" not in values and "DJANGO_SECURE_SSL_REDIRECT" not in values  # HTTPS defaults stay
    assert values["ASIRIKUY_ADMIN_PASSWORD"] in first.stdout  # the first login is told once, on the terminal
    # the generated values (with this run's database and Redis) pass Django's deployment checks in production mode
    env = {**os.environ, **values, "ASIRIKUY_MODE": "production", "DJANGO_SETTINGS_MODULE": "asirikuy_site.settings"}
    env.pop("DJANGO_SECURE_SSL_REDIRECT", None)
    check = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    second = subprocess.run(
        [sys.executable, "scripts/make_env.py", "--output", str(env_path)], cwd=ROOT, capture_output=True, text=True
    )
    assert second.returncode == 1 and "exists already; nothing written" in second.stderr
    assert read_env_file(env_path) == values
    # another run makes other secrets
    other = tmp_path / "other.env"
    subprocess.run([sys.executable, "scripts/make_env.py", "--output", str(other)], cwd=ROOT, check=True)
    assert read_env_file(other)["DJANGO_SECRET_KEY"] != values["DJANGO_SECRET_KEY"]


@pytest.mark.django_db
def test_deploy_init_creates_the_first_admin_once_and_never_resets_it(monkeypatch, django_user_model):
    monkeypatch.setenv("ASIRIKUY_ADMIN_USERNAME", "root-admin")
    monkeypatch.setenv("ASIRIKUY_ADMIN_PASSWORD", "a-Generated-Pass-4711")
    out = StringIO()
    call_command("deploy_init", stdout=out)
    assert "beat schedule in step" in out.getvalue()
    assert "superuser 'root-admin' created" in out.getvalue()
    admin = django_user_model.objects.get(username="root-admin")
    assert admin.is_superuser and admin.is_staff and admin.check_password("a-Generated-Pass-4711")
    admin.set_password("changed-after-first-login-1")
    admin.save()
    monkeypatch.setenv("ASIRIKUY_ADMIN_PASSWORD", "another-Pass-0815")
    out = StringIO()
    call_command("deploy_init", stdout=out)
    assert "exists already" in out.getvalue()
    admin.refresh_from_db()
    assert admin.check_password("changed-after-first-login-1")


@pytest.mark.django_db
def test_first_admin_refuses_placeholders_and_weak_passwords_and_says_what_to_do_without_one(django_user_model):
    with pytest.raises(Exception, match="ASIRIKUY_ADMIN_PASSWORD is still a placeholder"):
        ensure_admin("admin", "change-me", "")
    with pytest.raises(CommandError, match="ASIRIKUY_ADMIN_PASSWORD is refused: .*too short"):
        ensure_admin("admin", "Ab1", "")
    assert "manage.py createsuperuser" in ensure_admin("admin", None, "")
    assert not django_user_model.objects.filter(username="admin").exists()
