"""Fault injection and request records of the fake OANDA (what a test asks for and what it can inspect)."""

from __future__ import annotations

import re
from collections import deque
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
    """One request as the fake received it; ``at`` is its arrival on the fake's monotonic clock."""

    method: str
    path: str
    query: str
    body: str
    at: float = 0.0
    throttled: bool = False


class Throttle:
    """OANDA's per-IP rate limit: beyond ``limit`` served requests in any ``window`` seconds, answer 429."""

    def __init__(self, limit: int, window: float = 1.0) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("throttle needs limit >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self.served: deque[float] = deque()

    def admit(self, now: float) -> bool:
        """Count a request that arrives at ``now``; False if it must get a 429 (it is then not counted)."""
        while self.served and self.served[0] <= now - self.window:
            self.served.popleft()
        if len(self.served) >= self.limit:
            return False
        self.served.append(now)
        return True
