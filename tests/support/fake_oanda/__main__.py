"""Run the fake OANDA server: ``python -m tests.support.fake_oanda --port 0`` prints its URL, token and account."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import UTC, datetime, timedelta

from tests.support.fake_oanda import FakeOanda, make_candles


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--hedging", action="store_true", help="hedging account (default: US, no hedging, FIFO)")
    parser.add_argument("--heartbeat", type=float, default=5.0, help="stream heartbeat interval in seconds")
    parser.add_argument("--candles", type=int, default=5000, help="M1 candles of history per instrument")
    args = parser.parse_args(argv)
    fake = FakeOanda.start(host=args.host, port=args.port, hedging=args.hedging, heartbeat_interval=args.heartbeat)
    start = (datetime.now(UTC) - timedelta(minutes=args.candles + 1)).replace(second=0, microsecond=0)
    for name, inst in fake.broker.instruments.items():
        mid = (inst.bid + inst.ask) / 2
        spread = inst.ask - inst.bid
        fake.set_candles(
            name,
            "M1",
            make_candles(
                start=start,
                count=args.candles,
                digits=inst.display_precision,
                base=mid,
                spread=spread,
                last_incomplete=True,
            ),
        )
    print(fake.url, flush=True)
    print(f"token={fake.token} account={fake.account_id}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
