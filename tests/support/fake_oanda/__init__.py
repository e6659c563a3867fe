"""A fake OANDA v20 server on 127.0.0.1 for tests and local trials (``python -m tests.support.fake_oanda``).

fake = FakeOanda.start(hedging=False, heartbeat_interval=0.1)
client = OandaClient(base_url=fake.url, stream_url=fake.url, token=fake.token, account_id=fake.account_id)
fake.set_price("EUR_USD", "1.10000", "1.10010")      # moves the market, runs SL/TP/pending triggers
fake.inject("drop_after", method="POST", path="/orders")  # accept the order, then lose the answer
fake.inject_stream("stall", after=2)                 # next stream connection goes silent
fake.stop()
"""

from __future__ import annotations

from tests.support.fake_oanda.candles import make_candles
from tests.support.fake_oanda.faults import Fault, SeenRequest
from tests.support.fake_oanda.handle import FakeOanda

__all__ = ["FakeOanda", "Fault", "SeenRequest", "make_candles"]
