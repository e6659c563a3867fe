"""Errors the services raise for callers (API, admin, tasks) to show to a user."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A request that cannot be carried out; the message is safe to show to the user."""

    status = 400

    def __init__(self, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class InstanceNotRunnable(ApplicationError):
    """The instance is disabled, its account is disabled, or its data is not ready; nothing was traded."""
