"""What a request waits on: the server's address, the answers of one request, and error answers raised."""

from __future__ import annotations

import queue
import time
from dataclasses import dataclass
from typing import Any

from brokers.ctrader import messages as pb
from brokers.ctrader.errors import error_for


@dataclass(frozen=True)
class Endpoint:
    """Where the server is: ``demo.ctraderapi.com:5035`` / ``live.ctraderapi.com:5035`` (tests: the fake)."""

    host: str
    port: int = 5035
    ca_file: str | None = None  # None: the system's certificate authorities

    @classmethod
    def parse(cls, address: str, *, ca_file: str | None = None) -> Endpoint:
        host, _, port = address.rpartition(":") if ":" in address else (address, "", "5035")
        return cls(host=host, port=int(port), ca_file=ca_file or None)


class ConnectionLost(Exception):  # noqa: N818 - a signal between the reader and waiting requests
    """The connection dropped while a request waited for its answer."""


class Pending:
    """The answers of one request (several for an order: accepted, then filled), in arrival order."""

    def __init__(self, msg_id: str, generation: int, inbox: queue.Queue[Any] | None = None) -> None:
        self.msg_id = msg_id
        self.generation = generation
        self.sent_at = time.monotonic()
        self._queue: queue.Queue[Any] = inbox if inbox is not None else queue.Queue()

    def put(self, item: pb.Message | ConnectionLost) -> None:
        self._queue.put(item)

    def next(self, timeout: float) -> pb.Message | None:
        """The next answer; None when none came within ``timeout``. Raises ConnectionLost."""
        try:
            item = self._queue.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return None
        if isinstance(item, ConnectionLost):
            raise item
        return item


def raise_if_error(message: pb.Message, *, where: str, order: bool = False) -> None:
    """Raise the mapped error when ``message`` is an error answer (ProtoOAErrorRes, ProtoErrorRes, an order
    error event)."""
    kind = pb.payload_type(message)
    if kind in (pb.ERROR_RES_TYPE, pb.COMMON_ERROR_RES_TYPE) or message.DESCRIPTOR.name == "ProtoOAOrderErrorEvent":
        retry_after = float(message.retryAfter) if "retryAfter" in message.DESCRIPTOR.fields_by_name else None
        raise error_for(
            str(message.errorCode), str(message.description), where=where, retry_after=retry_after, order=order
        )
