"""What one worker process does in the host-wide pacing test (a module, so ``spawn`` can import it)."""

from __future__ import annotations

import time
from typing import Any

from brokers.oanda import OandaClient
from brokers.oanda.pacing import Budget, HostPacer


def hammer(
    url: str,
    token: str,
    account_id: str,
    directory: str,
    requests: tuple[int, float],
    connections: tuple[int, float],
    clients: int,
    calls: int,
    start: Any,
) -> float:
    """Open ``clients`` clients on the shared pacer, each sending ``calls`` requests; returns the seconds
    this process spent waiting for the pacer."""
    pacer = HostPacer(directory, requests=Budget(*requests), connections=Budget(*connections))
    waited = [0.0]

    def sleep(seconds: float) -> None:
        waited[0] += seconds
        time.sleep(seconds)

    made = [
        OandaClient(base_url=url, stream_url=url, token=token, account_id=account_id, pacer=pacer, sleep=sleep)
        for _ in range(clients)
    ]
    start.wait(30)
    try:
        for client in made:
            for _ in range(calls):
                client.get_account_state()
    finally:
        for client in made:
            client.close()
        pacer.close()
    return waited[0]


def run(results: Any, *args: Any) -> None:
    """Process target: ``hammer`` and put its figure (or the error text) on ``results``."""
    try:
        results.put(hammer(*args))
    except Exception as e:  # noqa: BLE001 - reported to the parent, which fails the test with it
        results.put(f"{type(e).__name__}: {e}")
