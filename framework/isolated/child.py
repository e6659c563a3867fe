"""The child process that holds a foreign library: ``python -m framework.isolated.child LIBRARY CONFIG``.

It answers requests on stdin with replies on its original stdout; file descriptor 1 itself is pointed at
/dev/null first, because a legacy library prints to stdout (a stray ``"1"``) and must not corrupt the replies.
It exits when the platform closes its stdin. Instances are initialised here: on first use, again when their
settings change, and after a gap in their history (``reset``), since a legacy library keeps rate buffers per
instance that only a contiguous history keeps right.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from framework.errors import FrameworkError, FrameworkInputError, SettingsError
from framework.isolated import codec
from framework.isolated.wire import receive, send
from framework.settings import StrategySettings
from framework.strategy import Framework, load_framework


def _run(fw: Framework, fingerprints: dict[int, str], request: dict[str, Any]) -> list[tuple[Any, ...]]:
    instance_id = int(request["instance_id"])
    is_testing = bool(request["is_testing"])
    known = fingerprints.get(instance_id)
    if known is None:
        fw.ensure_instance(instance_id, is_testing=is_testing)
    elif known != request["fingerprint"] or request["reset"]:
        fw.reset_instance(instance_id, is_testing=is_testing)
    fingerprints[instance_id] = request["fingerprint"]
    signals = fw.run(
        instance_id=instance_id,
        settings=StrategySettings(request["settings"]),
        symbol=request["symbol"],
        account_currency=request["account_currency"],
        broker_name=request["broker_name"],
        ref_broker_name=request["ref_broker_name"],
        current_time=int(request["current_time"]),
        orders=[codec.order_from_row(row) for row in request["orders"]],
        account=codec.account_from_row(request["account"]),
        prices=codec.prices_from_row(request["prices"]),
        slots=[codec.slot_from_wire(slot) for slot in request["slots"]],
    )
    return [codec.signal_to_wire(s) for s in signals]


def _answer(fw: Framework, fingerprints: dict[int, str], op: str, request: dict[str, Any]) -> tuple[Any, ...]:
    try:
        if op == "run":
            return ("ok", _run(fw, fingerprints, request))
        if op == "deinit":
            instance_id = int(request["instance_id"])
            if fingerprints.pop(instance_id, None) is not None:
                fw.deinit_instance(instance_id)
            return ("ok", None)
        return ("input_error", f"unknown request {op!r}")
    except FrameworkError as e:
        return ("framework_error", e.code, e.detail)
    except (FrameworkInputError, SettingsError, ValueError, KeyError, TypeError) as e:
        return ("input_error", f"{type(e).__name__}: {e}")


def main(argv: list[str]) -> int:
    """Serve requests until stdin closes."""
    library, config = argv[1], argv[2]
    replies = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    sys.stdout = sys.stderr
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the worker decides when this process ends (it closes stdin)
    try:
        fw = load_framework(library, config)
    except FrameworkError as e:
        send(replies, ("load_error", str(e)))
        return 1
    send(replies, ("ready", fw.version, fw.is_ours, os.getpid()))
    fingerprints: dict[int, str] = {}
    while True:
        try:
            message = receive(0)
        except EOFError:
            return 0
        assert isinstance(message, tuple)
        op, request = message
        send(replies, _answer(fw, fingerprints, op, request))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
