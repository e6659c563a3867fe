"""Moved to tests.support.builders (kept for branches written before the move)."""

from tests.support.builders import *  # noqa: F403
