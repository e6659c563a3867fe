"""The one settings module: everything comes from the environment.

Two modes (ASIRIKUY_MODE):
- ``embedded`` (default): SQLite file, Celery over kombu's filesystem transport, file cache. No server to
  install; safe on one machine because the filesystem transport and SQLite (WAL, immediate transactions)
  are shared by every process of that machine through file locks. Secrets are generated once into
  var/secrets/ so a laptop works out of the box.
- ``production``: DATABASE_URL (PostgreSQL, psycopg 3) and REDIS_URL are required, and so are
  DJANGO_SECRET_KEY and ASIRIKUY_TOKEN_KEYS; nothing secret has a default.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from asirikuy_site.env import (
    database_from_url,
    env_bool,
    env_choice,
    env_int,
    env_secret,
    env_str,
    refuse_placeholder,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("ASIRIKUY_VAR_DIR") or BASE_DIR / "var")

MODE = env_choice("ASIRIKUY_MODE", "embedded", ("embedded", "production"))
EMBEDDED = MODE == "embedded"
# Off unless asked for, in every mode: the debug page shows settings, SQL and local variables.
DEBUG = env_bool("DJANGO_DEBUG", False)


def _private_dir(path: Path) -> Path:
    """Create ``path`` (and the var directory) readable by the owner only: databases, secrets, queued work."""
    for folder in (VAR_DIR, path):
        folder.mkdir(parents=True, exist_ok=True)
        if folder.stat().st_uid == os.getuid():
            folder.chmod(0o700)
    return path


if EMBEDDED:
    _private_dir(VAR_DIR)


def _embedded_secret(name: str, make: Callable[[], str]) -> str:
    """Create a per-install secret file on first use so no secret ships with the code."""
    path = _private_dir(VAR_DIR / "secrets") / name
    if not path.exists():
        # Created 0600 from the start (no window in which another user could read it).
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
            handle.write(make())
    path.chmod(0o600)
    return path.read_text().strip()


def _required_secret(name: str, make: Callable[[], str]) -> str:
    value = env_secret(name)
    refuse_placeholder(name, value)
    if value:
        return value
    if EMBEDDED:
        return _embedded_secret(name.lower(), make)
    raise ImproperlyConfigured(
        f"{name} (or {name}_FILE) must be set when ASIRIKUY_MODE=production; "
        "`python3 scripts/make_env.py` writes a .env with generated values"
    )


SECRET_KEY = _required_secret("DJANGO_SECRET_KEY", lambda: secrets.token_urlsafe(50))
# Fernet keys that encrypt broker tokens, comma separated, newest first (rotation: prepend a new key).
TOKEN_KEYS = [
    k.strip()
    for k in _required_secret("ASIRIKUY_TOKEN_KEYS", lambda: Fernet.generate_key().decode()).split(",")
    if k.strip()
]
if not TOKEN_KEYS:
    raise ImproperlyConfigured("ASIRIKUY_TOKEN_KEYS holds no key (only commas or spaces)")
for _key in TOKEN_KEYS:
    try:
        Fernet(_key)
    except ValueError as e:
        raise ImproperlyConfigured("ASIRIKUY_TOKEN_KEYS holds a value that is not a Fernet key") from e

# Embedded mode serves this machine only (the quickstart binds 127.0.0.1); production names its hosts.
ALLOWED_HOSTS = [
    h.strip()
    for h in (env_str("DJANGO_ALLOWED_HOSTS") or ("localhost,127.0.0.1,[::1]" if EMBEDDED else "")).split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [h.strip() for h in (env_str("DJANGO_CSRF_TRUSTED_ORIGINS") or "").split(",") if h.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    # Swagger UI and Redoc served by the app itself (never a CDN): the API docs work offline.
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "csp",
    "trading",
    "backtests",
    "risk",
    "ops",
    "trading.dashboard",
]

MIDDLEWARE = [
    "asirikuy_site.limits.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "ops.health.middleware.WebRequestMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "asirikuy_site.urls"
WSGI_APPLICATION = "asirikuy_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # The kill-switch / guard-rail / margin banner every dashboard page shows.
                "trading.dashboard.banner.banner_context",
            ],
        },
    },
]

_default_db = f"sqlite:///{VAR_DIR / 'asirikuy.sqlite3'}" if EMBEDDED else None
_db_url = env_str("DATABASE_URL") or _default_db
if not _db_url:
    raise ImproperlyConfigured("DATABASE_URL must be set when ASIRIKUY_MODE=production")
DATABASES = {"default": database_from_url(_db_url, base_dir=BASE_DIR)}
refuse_placeholder("the password in DATABASE_URL", str(DATABASES["default"].get("PASSWORD") or ""))
if env_str("DJANGO_TEST_DB_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": env_str("DJANGO_TEST_DB_NAME")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    _sqlite = Path(str(DATABASES["default"]["NAME"]))
    _sqlite.parent.mkdir(parents=True, exist_ok=True)
    if _sqlite.parent == VAR_DIR:
        _private_dir(VAR_DIR)
    # An empty file is a new SQLite database; made 0600 here so SQLite (and its -wal/-shm files, which take the
    # database file's mode) never leave trades and encrypted tokens world-readable.
    os.close(os.open(_sqlite, os.O_WRONLY | os.O_CREAT, 0o600))
    if _sqlite.stat().st_uid == os.getuid():
        _sqlite.chmod(0o600)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-axes checks every login (dashboard, admin) and locks a username from an address after repeated
# failures; the lockout answer is templates/registration/locked_out.html.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("ASIRIKUY_LOGIN_FAILURES", 5, minimum=1, maximum=100)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("ASIRIKUY_LOGIN_LOCKOUT_MINUTES", 15, minimum=1, maximum=1440))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_SENSITIVE_PARAMETERS = ["password", "token"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

# --- Redis (production) -------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if not EMBEDDED and not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL must be set when ASIRIKUY_MODE=production")

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Celery --------------------------------------------------------------------------------
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 120
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_SEND_SENT_EVENT = True
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_BEAT_SCHEDULER = "trading.beat:SingleBeatScheduler"
CELERY_TASK_DEFAULT_QUEUE = "default"
# Queues and routes live in trading/queues.py: pinned account queues by a router, the rest by name.
CELERY_TASK_ROUTES = ("trading.queues.route_task",)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
# Celery's Django fixup closes the database connection around every task unless this is set (then every 2 × N
# tasks); a strategy worker would open a new PostgreSQL connection for each bar close and each fill task. Tasks
# keep the connection instead, under Django's own rules (CONN_MAX_AGE, health checks, closed after an error):
# asirikuy_site/celery.py checks it around each task as a request is checked.
CELERY_DB_REUSE_MAX = 1000

if env_str("CELERY_BROKER_URL") or REDIS_URL:
    CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL
    CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or CELERY_BROKER_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        # Must stay well above the task time limit (see research notes on redelivery loops).
        "visibility_timeout": 900,
        "unacked_restore_interval": 5,
        "unacked_restore_throttle": 2,
    }
    CELERY_RESULT_EXPIRES = 3600
else:
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    _control_dir = VAR_DIR / "celery" / "control"
    for _d in (_queue_dir, _processed_dir, _control_dir):
        _d.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "store_processed": False,
        "control_folder": str(_control_dir),
    }
    CELERY_RESULT_BACKEND = None
    CELERY_TASK_IGNORE_RESULT = True

# --- Asirikuy --------------------------------------------------------------------------------
# Strategy work is pinned: every account has its own queue ("account.<id>"), and each queue is
# consumed by exactly one single-process worker, chosen by account id modulo ASIRIKUY_STRATEGY_SHARDS.
STRATEGY_SHARDS = env_int("ASIRIKUY_STRATEGY_SHARDS", 2, minimum=1, maximum=256)
FRAMEWORK_LIBRARY = env_str("ASIRIKUY_FRAMEWORK_LIBRARY")
FRAMEWORK_CONFIG = env_str("ASIRIKUY_FRAMEWORK_CONFIG")
# How long a strategy run waits for a late bar before giving up on it (seconds).
BAR_WAIT_SECONDS = env_int("ASIRIKUY_BAR_WAIT_SECONDS", 20, minimum=0, maximum=300)
OANDA_ENABLED = env_bool("OANDA_ENABLED", True)
OANDA_PRACTICE_URL = env_str("OANDA_PRACTICE_URL", "https://api-fxpractice.oanda.com")
OANDA_PRACTICE_STREAM_URL = env_str("OANDA_PRACTICE_STREAM_URL", "https://stream-fxpractice.oanda.com")
OANDA_LIVE_URL = env_str("OANDA_LIVE_URL", "https://api-fxtrade.oanda.com")
OANDA_LIVE_STREAM_URL = env_str("OANDA_LIVE_STREAM_URL", "https://stream-fxtrade.oanda.com")
# OANDA's per-IP limits, shared by every process of this host (files under VAR_DIR/pacing): requests per
# second (OANDA allows 120; we keep a margin) and new TCP connections per second (OANDA allows 2).
OANDA_REQUESTS_PER_SECOND = env_int("OANDA_REQUESTS_PER_SECOND", 100, minimum=1, maximum=120)
OANDA_NEW_CONNECTIONS_PER_SECOND = env_int("OANDA_NEW_CONNECTIONS_PER_SECOND", 2, minimum=1, maximum=1000)
# Threads of the broker_io worker (its -c): each OANDA client keeps this many keep-alive connections.
BROKER_IO_THREADS = env_int("ASIRIKUY_BROKER_IO_THREADS", 16, minimum=1, maximum=256)
# A streamed price older than this is not used; the run asks OANDA for a snapshot instead.
OANDA_PRICE_MAX_AGE_SECONDS = env_int("OANDA_PRICE_MAX_AGE_SECONDS", 10, minimum=1, maximum=300)
# cTrader Open API (Pepperstone, IC Markets, …): the application registered at openapi.ctrader.com (its client
# secret like a password: CTRADER_CLIENT_SECRET or CTRADER_CLIENT_SECRET_FILE), and the servers by environment
# (tests point them at the fake, trusting its throw-away certificate authority with CTRADER_CA_FILE).
CTRADER_CLIENT_ID = env_str("CTRADER_CLIENT_ID", "")
CTRADER_CLIENT_SECRET = env_secret("CTRADER_CLIENT_SECRET") or ""
CTRADER_REDIRECT_URI = env_str("CTRADER_REDIRECT_URI", "")
CTRADER_DEMO_ADDRESS = env_str("CTRADER_DEMO_ADDRESS", "demo.ctraderapi.com:5035")
CTRADER_LIVE_ADDRESS = env_str("CTRADER_LIVE_ADDRESS", "live.ctraderapi.com:5035")
CTRADER_CA_FILE = env_str("CTRADER_CA_FILE", "")
# An order whose answer was lost is looked up, never resent, for at least this long after sending.
ORDER_LOOKUP_GRACE_SECONDS = env_int(
    "ASIRIKUY_ORDER_LOOKUP_GRACE_SECONDS",
    env_int("OANDA_LOOKUP_GRACE_SECONDS", 5, minimum=0, maximum=600),
    minimum=0,
    maximum=600,
)
# A market order not sent (or with no trace at the broker) this long after its signal is cancelled with its
# reason, never placed late. OANDA_RESEND_MAX_AGE_SECONDS is the earlier name of the same setting.
ORDER_MAX_AGE_SECONDS = env_int(
    "ASIRIKUY_ORDER_MAX_AGE_SECONDS",
    env_int("OANDA_RESEND_MAX_AGE_SECONDS", 60, minimum=5, maximum=3600),
    minimum=5,
    maximum=3600,
)

# --- Request limits -------------------------------------------------------------------------
# JSON and form bodies (DRF's JSON parser included, see asirikuy_site/limits.py): 1 MiB.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("ASIRIKUY_MAX_REQUEST_BYTES", 1_048_576, minimum=1024)
# Multipart uploads (bar files): refused above this size; above FILE_UPLOAD_MAX_MEMORY_SIZE they go to a
# temporary file on disk instead of memory.
UPLOAD_MAX_BYTES = env_int("ASIRIKUY_MAX_UPLOAD_BYTES", 256 * 1_048_576, minimum=1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- Per-user quotas (0 = no cap; superusers are never capped) --------------------------------
QUOTA_ACCOUNTS = env_int("ASIRIKUY_QUOTA_ACCOUNTS", 10, minimum=0)
QUOTA_INSTANCES = env_int("ASIRIKUY_QUOTA_INSTANCES", 100, minimum=0)
# Backtests, walk-forwards and drift reports pending or running at once.
QUOTA_BACKTESTS = env_int("ASIRIKUY_QUOTA_BACKTESTS", 4, minimum=0)
# Optimisation passes pending or running at once (one optimisation holds at most 10,000).
QUOTA_OPTIMIZATION_PASSES = env_int("ASIRIKUY_QUOTA_OPTIMIZATION_PASSES", 10_000, minimum=0)
# Framework instances one worker process holds before it releases the least recently run (ABI limit 200).
FRAMEWORK_INSTANCE_SLOTS = env_int("ASIRIKUY_FRAMEWORK_INSTANCE_SLOTS", 200, minimum=1, maximum=100_000)

# A running bar-close claim is leased to its process for this long and renewed every fifth of it; a claim whose
# lease lapsed belongs to a dead run and is taken over (re-queued while its bar is current, else recorded missed).
EXECUTION_LEASE_SECONDS = env_int("ASIRIKUY_EXECUTION_LEASE_SECONDS", 15, minimum=3, maximum=300)
# A strategy worker holds each account it serves under a lease of this length, renewed every fifth of it: a dead
# worker's accounts are taken by another within about this long, and no two workers serve one account at a time.
ACCOUNT_LEASE_SECONDS = env_int("ASIRIKUY_ACCOUNT_LEASE_SECONDS", 10, minimum=3, maximum=300)

# --- DRF -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        # Named tokens made on the dashboard's API-token page (ast_…, stored hashed; several per user, revocable),
        # before DRF's own tokens, which would refuse a key they do not know.
        "trading.dashboard.tokens.NamedTokenAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # JSON that no field can hold (NaN, 1e400, 10**400, deep nesting) is a 400 naming where it was.
    "DEFAULT_PARSER_CLASSES": [
        "trading.api.parsers.StrictJSONParser",
        "trading.api.parsers.StrictFormParser",
        "trading.api.parsers.StrictMultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "trading.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["trading.api.throttles.UserThrottle", "trading.api.throttles.AnonThrottle"],
}
# Requests per user (token or session) and per anonymous client address; "" turns one off. Behind a proxy,
# set ASIRIKUY_PROXIES to the number of proxies so the client address is read from X-Forwarded-For.
API_THROTTLE_USER = env_str("ASIRIKUY_THROTTLE_USER", "600/minute")
API_THROTTLE_ANON = env_str("ASIRIKUY_THROTTLE_ANON", "60/minute")
REST_FRAMEWORK["NUM_PROXIES"] = env_int("ASIRIKUY_PROXIES", 0, minimum=0, maximum=10) or None
SPECTACULAR_SETTINGS = {
    "TITLE": "Asirikuy Trader API",
    "DESCRIPTION": "Accounts, strategy instances, bars, orders, trades and executions.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "trading.api.schema_errors.error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "AccountRoleEnum": "trading.models.sharing.AccountRole",
        "SharedRoleEnum": "trading.models.sharing.SHARED_ROLES",
    },
}

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("ASIRIKUY_LOG_LEVEL", "INFO")},
    "loggers": {"urllib3": {"level": "WARNING"}},
}

# --- Running unattended (ops/: notifications, health, watchdog, metrics, logs) ------------------------
# Structured logs: context ids (account, instance, bar, order, run) in every line; JSON lines on request.
from ops.logs import logging_config  # noqa: E402  (no Django import: safe inside settings)

_ops_logging = logging_config(
    level=env_str("ASIRIKUY_LOG_LEVEL", "INFO") or "INFO", json_lines=env_bool("ASIRIKUY_LOG_JSON", False)
)
LOGGING = {**_ops_logging, "loggers": {**LOGGING.get("loggers", {}), **_ops_logging["loggers"]}}
# How often each process records a heartbeat, and after how long without one it counts as down.
OPS_HEARTBEAT_SECONDS = env_int("ASIRIKUY_HEARTBEAT_SECONDS", 5, minimum=1, maximum=300)
OPS_HEARTBEAT_STALE_SECONDS = env_int("ASIRIKUY_HEARTBEAT_STALE_SECONDS", 30, minimum=2, maximum=3600)
# The notifier and watchdog pass (a beat job on the default queue).
OPS_PASS_SECONDS = env_int("ASIRIKUY_OPS_PASS_SECONDS", 5, minimum=1, maximum=300)
# A queue whose oldest waiting message has made no progress for this long is reported as backing up.
OPS_QUEUE_BACKLOG_SECONDS = env_int("ASIRIKUY_QUEUE_BACKLOG_SECONDS", 60, minimum=5, maximum=3600)
# An order left UNKNOWN (its answer lost) longer than this is reported.
OPS_ORDER_UNKNOWN_SECONDS = env_int("ASIRIKUY_ORDER_UNKNOWN_SECONDS", 120, minimum=5, maximum=86400)
# Drawdown (percent below the equity high-water mark) that alerts when the account has no drawdown limit;
# with a limit, alerts come at 80 % of it and at the limit.
OPS_DRAWDOWN_ALERT_PCT = env_int("ASIRIKUY_DRAWDOWN_ALERT_PCT", 10, minimum=1, maximum=100)
# Notification delivery: the time one send may take, and how often a message is tried before giving up.
OPS_SEND_TIMEOUT_SECONDS = env_int("ASIRIKUY_NOTIFY_TIMEOUT_SECONDS", 20, minimum=1, maximum=300)
OPS_SEND_MAX_ATTEMPTS = env_int("ASIRIKUY_NOTIFY_MAX_ATTEMPTS", 8, minimum=1, maximum=100)
# Prometheus /metrics: a bearer token, or (no token) answered only on loopback.
OPS_METRICS_TOKEN = env_secret("ASIRIKUY_METRICS_TOKEN") or ""
refuse_placeholder("ASIRIKUY_METRICS_TOKEN", OPS_METRICS_TOKEN)
# Counters and histograms of every process on this host are shared through files here (prometheus-client
# multi-process mode); gunicorn and Celery workers must all see the same directory.
OPS_METRICS_DIR = env_str("PROMETHEUS_MULTIPROC_DIR") or str(VAR_DIR / "metrics")

# --- Security headers and HTTPS (README "Deployment security") ----------------------------------
# Embedded mode is plain HTTP on this machine; production is HTTPS (usually a TLS proxy in front), and
# each default below can be turned off by its variable for a deployment that cannot have it.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not EMBEDDED)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not EMBEDDED)
# Probes from inside the deployment (container healthchecks, Prometheus) speak plain HTTP to the web process.
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if EMBEDDED else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", not EMBEDDED)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", not EMBEDDED)
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", False):
    # Only behind a proxy that sets X-Forwarded-Proto itself and drops the client's.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Content-Security-Policy (django-csp): our pages load only their own scripts and styles (the inline <style>
# of the templates is allowed; no inline script is). The API docs (Swagger UI) are served from here too.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Error reports (mail, logs, the debug page) never show tokens, passwords or secrets, wherever they sit.
DEFAULT_EXCEPTION_REPORTER_FILTER = "asirikuy_site.error_reports.ScrubbingExceptionReporterFilter"
