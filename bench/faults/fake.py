"""The fake OANDA server, wherever it lives (it moves from brokers/oanda/fake to tests/support/fake_oanda).

Imports nothing of Django: the runner starts the fake before it configures Django.
"""

from __future__ import annotations

from typing import Any


def fake_oanda_class() -> Any:
    try:
        from tests.support.fake_oanda import FakeOanda
    except ImportError:
        from brokers.oanda.fake import FakeOanda
    return FakeOanda
