"""The fake OANDA server of the tests (``tests/support/fake_oanda``), started in the runner's own process.

Imports nothing of Django: the runner starts the fake before it configures Django.
"""

from __future__ import annotations

from typing import Any


def fake_oanda_class() -> Any:
    from tests.support.fake_oanda import FakeOanda

    return FakeOanda
