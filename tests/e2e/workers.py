"""Moved to tests.support.workers (kept for branches written before the move)."""

from tests.support.workers import *  # noqa: F403
