"""Safe defaults: DEBUG off, the deploy checks clean in production, private files, headers, scrubbed reports."""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICE_VARS = (
    "ASIRIKUY_MODE",
    "DJANGO_DEBUG",
    "DJANGO_ALLOWED_HOSTS",
    "DATABASE_URL",
    "DJANGO_SECRET_KEY",
    "ASIRIKUY_TOKEN_KEYS",
    "ASIRIKUY_VAR_DIR",
    "DJANGO_SECURE_SSL_REDIRECT",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
)


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _embedded_env(var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARS}
    env.update(ASIRIKUY_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="asirikuy_site.settings")
    return env


def test_embedded_defaults_have_debug_off_named_hosts_and_private_files(tmp_path):
    var = tmp_path / "var"
    code = (
        "import django; django.setup()\n"
        "from django.conf import settings; from django.db import connection\n"
        "connection.cursor().execute('create table probe (x int)')\n"
        "import os, stat; wal = settings.DATABASES['default']['NAME'] + '-wal'\n"
        "print(settings.DEBUG, settings.ALLOWED_HOSTS, oct(stat.S_IMODE(os.stat(wal).st_mode)))\n"
    )

    done = _python(code, _embedded_env(var))

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False ['localhost', '127.0.0.1', '[::1]'] 0o600"
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    assert stat.S_IMODE((var / "secrets").stat().st_mode) == 0o700
    for secret in (var / "secrets").iterdir():
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600, secret
    assert stat.S_IMODE((var / "asirikuy.sqlite3").stat().st_mode) == 0o600


def test_an_existing_world_readable_database_is_made_private(tmp_path):
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    (var / "asirikuy.sqlite3").touch(mode=0o644)

    done = _python("import django; django.setup()", _embedded_env(var))

    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE((var / "asirikuy.sqlite3").stat().st_mode) == 0o600
    assert stat.S_IMODE(var.stat().st_mode) == 0o700


def test_check_deploy_is_clean_in_production_mode():
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_DEBUG", "DJANGO_SECURE_SSL_REDIRECT")}
    env.update(
        ASIRIKUY_MODE="production",
        DJANGO_ALLOWED_HOSTS="trader.example.com",
        DJANGO_SECRET_KEY="p9Zk3#v!Qe7rT2mLx8Wc4Nb6Hs1Yd5Gf0Ju3Ki8Ol2Pa7Sw9Ez4Xq6Rt1Vy5Bn0Mk",
    )

    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_debug_is_off_in_the_test_process_too(settings):
    assert settings.DEBUG is False


@pytest.mark.django_db
def test_pages_carry_the_security_headers(client):
    response = client.get("/login/", secure=True)

    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.django_db
def test_the_api_docs_page_loads_its_script_from_this_site_not_inline(client, alice):
    client.force_login(alice)

    response = client.get("/api/docs/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<script>" not in html
    # Swagger UI is served by the app (drf-spectacular-sidecar): the policy names no other host.
    assert "http" not in response["Content-Security-Policy"] and "cdn" not in html


def test_error_reports_never_show_a_token_wherever_it_sits(rf):
    import json

    from django.views.debug import ExceptionReporter

    token = "secret-" + secrets.token_hex(12)  # not in this file's source, which the report quotes
    request = rf.post("/api/v1/accounts/", {"name": "x", "token": token}, HTTP_AUTHORIZATION=f"Token {token}")

    def create(data, token):  # noqa: ARG001 - the frame's variables are what the report shows
        validated = {"account": {"token": token, "name": "x"}, "tokens": [token]}
        body = json.dumps(validated)
        raise ValueError("boom" + body[:0])

    try:
        create({"token": token}, token)
    except ValueError:
        info = sys.exc_info()
    reporter = ExceptionReporter(request, *info)

    assert token not in reporter.get_traceback_text()
    assert token not in reporter.get_traceback_html()
