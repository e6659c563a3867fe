"""Typed readers for environment settings that refuse junk instead of guessing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, overload
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@overload
def env_str(name: str, default: str) -> str: ...
@overload
def env_str(name: str, default: None = None) -> str | None: ...
def env_str(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as e:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from e
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum {minimum}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name}={value} is above the maximum {maximum}")
    return value


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of {', '.join(choices)}")
    return value


def env_secret(name: str) -> str | None:
    """Read NAME, or the file named by NAME_FILE (Docker secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as e:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {e}") from e
    return os.environ.get(name) or None


# What .env.example and documentation put where a secret goes; a value starting with one of these was never
# generated (``python3 scripts/make_env.py`` writes real ones).
PLACEHOLDER_PREFIXES = ("change-me", "changeme", "replace-me")


def refuse_placeholder(name: str, value: str | None) -> None:
    """A secret still holding the example's placeholder would run a deployment on a published key: refuse it."""
    if value and value.strip().lower().startswith(PLACEHOLDER_PREFIXES):
        raise ImproperlyConfigured(
            f"{name} is still a placeholder (it starts with {value.strip()[:9]!r}); generate real values with "
            '`python3 scripts/make_env.py` (README "Deploy")'
        )


def database_from_url(url: str, *, base_dir: Path) -> dict[str, Any]:
    """Turn DATABASE_URL into a Django DATABASES entry (sqlite:/// or postgres://)."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        raw_path = unquote(parsed.path)
        if raw_path.startswith("//"):
            path = Path(raw_path[1:])
        else:
            path = base_dir / raw_path.lstrip("/")
        if not raw_path.strip("/"):
            raise ImproperlyConfigured(f"DATABASE_URL={url!r} names no SQLite file")
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(path),
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
        }
    if parsed.scheme in ("postgres", "postgresql"):
        if not parsed.path.strip("/"):
            raise ImproperlyConfigured(f"DATABASE_URL={url!r} names no database")
        options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL scheme {parsed.scheme!r} is not supported; use sqlite:///path or postgresql://user:pass@host/db"
    )
