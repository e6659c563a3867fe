"""Framing and pacing of the cTrader Open API's TCP transport.

Framing: every message is a 4-byte big-endian length followed by that many bytes of a serialised
``ProtoMessage`` (Spotware's "Sending/Receiving Protobuf Messages": the length's bytes, reversed on a
little-endian machine, then the message).

Pacing: the server allows 50 requests per second per connection, and 5 per second for historical data
(trend bars, tick data, deal lists); more gets REQUEST_FREQUENCY_EXCEEDED. A token bucket lets through at
most ``burst + rate`` requests in any one second, so the defaults (40/s + 10, 4/s + 1) stay at the limits.
"""

from __future__ import annotations

import struct
import threading
import time
from collections.abc import Callable

_LENGTH = struct.Struct(">I")
MAX_FRAME = 16 * 1024 * 1024  # a symbols list of a large broker is a few hundred kB; more is a broken stream


class FrameError(Exception):
    """The byte stream is not a sequence of frames (a bad length); the connection must be dropped."""


def frame(data: bytes) -> bytes:
    """``data`` with its length in front."""
    return _LENGTH.pack(len(data)) + data


class FrameBuffer:
    """Bytes in, whole frames out (a frame may arrive in many pieces, or several in one)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """The frames completed by ``data``. Raises FrameError on a length no frame may have."""
        self._buffer += data
        frames = []
        while len(self._buffer) >= 4:
            (length,) = _LENGTH.unpack_from(self._buffer)
            if length > MAX_FRAME:
                raise FrameError(f"frame of {length} bytes exceeds {MAX_FRAME}")
            if len(self._buffer) < 4 + length:
                break
            frames.append(bytes(self._buffer[4 : 4 + length]))
            del self._buffer[: 4 + length]
        return frames


class TokenBucket:
    """At most ``rate`` requests per second on average, bursts up to ``burst``; thread-safe.

    A token is reserved first and the debt slept off afterwards, so it also works with an injected ``sleep``.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._sleep = sleep
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, sleeping while the bucket is in debt. Returns the seconds slept."""
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= 1.0
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait
