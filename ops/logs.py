"""One structured log format for every process, carrying the ids that let one bar close be followed.

Context (account, instance, timeframe, bar, order, run, task) lives in a contextvar: Celery's task entry sets it
from the task's arguments and from the context the sender attached to the message (``ops.signals``), so
the order dispatch of a bar close logs the bar close's ``run`` id and bar in another process. Set
ASIRIKUY_LOG_JSON=1 for one JSON object per line.

Secrets never reach a handler: every record passes ``RedactSecrets``, which removes the values registered
with ``secret_register`` (each decrypted broker token or channel URL) and anything shaped like a credential
(a bearer token, a password in a URL, ``token=…`` / ``apikey=…`` parameters).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

CONTEXT_FIELDS = ("run", "task", "account", "instance", "timeframe", "bar", "order")
_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("asirikuy_log_context", default=None)


def log_context() -> dict[str, Any]:
    """The current context (a copy)."""
    return dict(_context.get() or {})


def log_context_set(**fields: Any) -> None:
    """Add fields to the current context (None removes one). For a task or batch entry point."""
    current = dict(_context.get() or {})
    for name, value in fields.items():
        if value is None:
            current.pop(name, None)
        else:
            current[name] = value
    _context.set(current)


def log_context_replace(fields: dict[str, Any] | None) -> contextvars.Token[dict[str, Any] | None]:
    return _context.set(dict(fields) if fields else None)


def log_context_reset(token: contextvars.Token[dict[str, Any] | None]) -> None:
    _context.reset(token)


@contextmanager
def log_context_bound(**fields: Any) -> Iterator[None]:
    token = _context.set({**(_context.get() or {}), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


# --- secrets --------------------------------------------------------------------------------------------
_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_secret_re: re.Pattern[str] | None = None
MIN_SECRET_LENGTH = 6
PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)[^'\",\s]{8,}"),
    re.compile(r"(://[^/\s:@]*:)[^@\s/]+(@)"),  # a password in a URL: scheme://user:password@host
    re.compile(r"(?i)((?:token|apikey|api_key|key|secret|password|pass|pwd)=)[^&\s'\"]+"),
]
MASK = "[secret]"


def secret_register(value: str | None) -> None:
    """Never let ``value`` reach a log line (a decrypted broker token, a channel URL and its parts)."""
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    global _secret_re
    with _secrets_lock:
        if value in _secrets:
            return
        _secrets.add(value)
        # Longest first, so a URL is replaced whole before any of its parts.
        _secret_re = re.compile("|".join(re.escape(s) for s in sorted(_secrets, key=len, reverse=True)))


def redact(text: str) -> str:
    pattern = _secret_re
    if pattern is not None:
        text = pattern.sub(MASK, text)
    for p in PATTERNS:
        text = p.sub(lambda m: m.group(1) + MASK + (m.group(2) if m.lastindex and m.lastindex >= 2 else ""), text)
    return text


class RedactSecrets(logging.Filter):
    """Renders the message once, removes secrets from it and from the traceback, and adds the context."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: log what there is rather than nothing
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
            record.exc_info = None
        context = _context.get() or {}
        record.context = " ".join(f"{k}={context[k]}" for k in CONTEXT_FIELDS if k in context)
        record.ctx = context
        return True


class PlainFormatter(logging.Formatter):
    """``time LEVEL logger [account=3 bar=… run=…]: message``."""

    def format(self, record: logging.LogRecord) -> str:
        context = getattr(record, "context", "")
        record.context_block = f" [{context}]" if context else ""
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the context ids, process, exception."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for name, value in (getattr(record, "ctx", None) or {}).items():
            out[name] = value
        if record.exc_text:
            out["exc"] = record.exc_text
        elif record.exc_info:
            out["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(out, default=str)


def logging_config(*, level: str, json_lines: bool) -> dict[str, Any]:
    """The LOGGING setting: one console handler, secrets removed, context ids in every line."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": "ops.logs.RedactSecrets"}},
        "formatters": {
            "plain": {
                "()": "ops.logs.PlainFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s%(context_block)s: %(message)s",
            },
            "json": {"()": "ops.logs.JsonFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if json_lines else "plain",
                "filters": ["redact"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"urllib3": {"level": "WARNING"}, "apprise": {"level": "WARNING"}},
    }
