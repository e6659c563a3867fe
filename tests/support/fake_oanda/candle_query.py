"""GET .../candles on the fake: stored candles where a test set them, synthetic ones everywhere else."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import datetime

from brokers.oanda.timefmt import parse_time
from tests.support.fake_oanda.common import J, Reply
from tests.support.fake_oanda.core import BrokerCore


class CandlesMixin(BrokerCore):
    def query_candles(self, instrument: str, params: dict[str, str]) -> J:
        """GET .../candles with OANDA's rules: count <= 5000, from/to/includeFirst, price M/B/A."""
        with self.lock:
            self.instrument(instrument)
            granularity = params.get("granularity", "S5")
            price = params.get("price", "M")
            if not price or set(price) - set("MBA"):
                raise Reply(400, {"errorMessage": "Invalid value specified for 'price'"})
            has_count = "count" in params
            try:
                count = int(params.get("count", "500"))
            except ValueError:
                raise Reply(400, {"errorMessage": "Invalid value specified for 'count'"}) from None
            if count > 5000 or count < 1:
                raise Reply(400, {"errorMessage": "Maximum value for 'count' exceeded"})
            start = _time_param(params, "from")
            end = _time_param(params, "to")
            if has_count and start is not None and end is not None:
                raise Reply(400, {"errorMessage": "Cannot specify 'count' with both 'from' and 'to'"})
            if end is not None and end > self.now():
                raise Reply(400, {"errorMessage": "Invalid value specified for 'to'. Time is in the future"})
            include_first = params.get("includeFirst", "true") != "false"
            rows = self.candles.get((instrument, granularity), [])
            times = self.candle_times.get((instrument, granularity), [])
            if start is not None:
                lo = bisect_left(times, start) if include_first else bisect_right(times, start)
                hi = bisect_left(times, end) if end is not None else len(rows)
                chosen = rows[lo:hi] if end is not None else rows[lo : lo + count]
            else:
                hi = bisect_left(times, end) if end is not None else len(rows)
                chosen = rows[max(0, hi - count) : hi]
            if end is not None and start is not None and len(chosen) > 5000:
                raise Reply(400, {"errorMessage": "Maximum value for 'count' exceeded"})
            keys = {"M": "mid", "B": "bid", "A": "ask"}
            wanted = {keys[p] for p in price}
            out = [{k: v for k, v in r.items() if k not in ("mid", "bid", "ask") or k in wanted} for r in chosen]
            return {"instrument": instrument, "granularity": granularity, "candles": out}

    def set_candles(self, instrument: str, granularity: str, candles: Iterable[J]) -> None:
        """Store candles (OANDA shape, with mid/bid/ask blocks); kept sorted by time."""
        with self.lock:
            rows = sorted(candles, key=lambda c: parse_time(c["time"]))
            self.candles[(instrument, granularity)] = rows
            self.candle_times[(instrument, granularity)] = [parse_time(r["time"]) for r in rows]


def _time_param(params: dict[str, str], key: str) -> datetime | None:
    value = params.get(key)
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError:
        raise Reply(400, {"errorMessage": f"Invalid value specified for '{key}'"}) from None
