"""Test settings: the real settings with a fast password hasher.

Tests create users and log them in by the hundred; Django's default PBKDF2 hasher spends a deliberate
fraction of a second on each hash, which is security in production and only waiting here. Everything else
is asirikuy_site.settings as the environment sets it (scripts/test.sh: production mode on PostgreSQL + Redis).
Worker processes started by tests inherit DJANGO_SETTINGS_MODULE and so run with this module too.
"""

from __future__ import annotations

from asirikuy_site.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Every test builds fresh OANDA clients against the loopback fake: OANDA's 2 new connections per second
# would only add waiting. The pacing itself is tested with explicit budgets (tests/brokers/test_oanda_pacing.py).
OANDA_NEW_CONNECTIONS_PER_SECOND = 1000
