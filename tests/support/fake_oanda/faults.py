"""Fault injection and request records of the fake OANDA (what a test asks for and what it can inspect)."""

from __future__ import annotations

import re
from dataclasses import dataclass

REST_FAULTS = frozenset({"latency", "status", "drop_before", "drop_after", "malformed"})
STREAM_FAULTS = frozenset({"stall", "drop", "half_lines", "malformed", "reject"})


@dataclass
class Fault:
    """One injected fault. ``method``/``path`` (a regex searched in the path) choose requests."""

    kind: str
    method: str | None = None
    path: str | None = None
    times: int = 1
    status: int = 500
    seconds: float = 0.0
    retry_after: float | None = None
    after: int = 0  # stream faults: messages sent before the fault strikes

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or re.search(self.path, path) is not None
        )


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    query: str
    body: str
