"""Messages between the platform and a library's child process: a length, then a pickle (both ends are ours)."""

from __future__ import annotations

import os
import pickle
import select
import struct
import time

_LENGTH = struct.Struct("<Q")
_CHUNK = 1 << 20


class WireTimeout(Exception):
    """No complete message arrived before the deadline."""


def send(fd: int, message: object) -> None:
    """Write one message (raises BrokenPipeError when the other end is gone)."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_LENGTH.pack(len(data)) + data)
    while view:
        written = os.write(fd, view[:_CHUNK])
        view = view[written:]


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes:
    parts: list[bytes] = []
    remaining = size
    while remaining:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise WireTimeout
        chunk = os.read(fd, min(remaining, _CHUNK))
        if not chunk:
            raise EOFError
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def receive(fd: int, deadline: float | None = None) -> object:
    """Read one message; EOFError when the other end closed, WireTimeout past ``deadline`` (time.monotonic)."""
    (length,) = _LENGTH.unpack(_read_exact(fd, _LENGTH.size, deadline))
    return pickle.loads(_read_exact(fd, length, deadline))
