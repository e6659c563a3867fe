"""GET .../candles on the fake: stored candles where a test set them, synthetic ones everywhere else."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from brokers.oanda.timefmt import parse_time
from tests.support.fake_oanda.candles import candle_at
from tests.support.fake_oanda.common import J, Reply
from tests.support.fake_oanda.core import BrokerCore
from tests.support.fake_oanda.market_time import GRANULARITIES, NOMINAL_SECONDS, Alignment, first_open

HISTORY_START = datetime(2000, 1, 3, tzinfo=UTC)  # the synthetic market's first day


class CandlesMixin(BrokerCore):
    synthetic_candles = True  # False: only candles a test stored with set_candles exist

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
            alignment = Alignment.from_params(params)
            if granularity not in GRANULARITIES:
                raise Reply(400, {"errorMessage": "Invalid value specified for 'granularity'"})
            if (instrument, granularity) in self.candles:
                chosen = self._stored(instrument, granularity, start, end, count, include_first)
            elif self.synthetic_candles:
                chosen = self._synthetic(instrument, granularity, alignment, start, end, count, include_first)
            else:
                chosen = []
            if end is not None and start is not None and len(chosen) > 5000:
                raise Reply(400, {"errorMessage": "Maximum value for 'count' exceeded"})
            keys = {"M": "mid", "B": "bid", "A": "ask"}
            wanted = {keys[p] for p in price}
            out = [{k: v for k, v in r.items() if k not in ("mid", "bid", "ask") or k in wanted} for r in chosen]
            return {"instrument": instrument, "granularity": granularity, "candles": out}

    def _stored(
        self,
        instrument: str,
        granularity: str,
        start: datetime | None,
        end: datetime | None,
        count: int,
        include_first: bool,
    ) -> list[J]:
        rows = self.candles[(instrument, granularity)]
        times = self.candle_times[(instrument, granularity)]
        if start is not None:
            lo = bisect_left(times, start) if include_first else bisect_right(times, start)
            hi = bisect_left(times, end) if end is not None else len(rows)
            return rows[lo:hi] if end is not None else rows[lo : lo + count]
        hi = bisect_left(times, end) if end is not None else len(rows)
        return rows[max(0, hi - count) : hi]

    def _synthetic(
        self,
        instrument: str,
        granularity: str,
        alignment: Alignment,
        start: datetime | None,
        end: datetime | None,
        count: int,
        include_first: bool,
    ) -> list[J]:
        """Candles of a deterministic market that trades all week long and never at the weekend."""
        now = self.now()
        stop = min(end, now) if end is not None else now
        if start is None:
            # The ``count`` candles before ``stop``: start far enough back to cover weekends, then trim.
            back = timedelta(seconds=NOMINAL_SECONDS[granularity]) * (count * 7 // 5 + 2) + timedelta(days=3)
            rows = self._series(instrument, granularity, alignment, max(stop - back, HISTORY_START), stop, None)
            return rows[-count:]
        first, first_end = alignment.bucket(max(start, HISTORY_START), granularity)
        if not include_first:
            first = first_end
        return self._series(instrument, granularity, alignment, first, stop, 5001 if end is not None else count)

    def _series(
        self,
        instrument: str,
        granularity: str,
        alignment: Alignment,
        first: datetime,
        stop: datetime,
        limit: int | None,
    ) -> list[J]:
        inst = self.instruments[instrument]
        base, spread = (inst.bid + inst.ask) / 2, inst.ask - inst.bid
        now = self.now()
        out: list[J] = []
        s, e = alignment.bucket(first, granularity)
        if s < first:  # ``first`` was the end of a skipped candle: begin with the next one
            s, e = alignment.bucket(e, granularity)
        step = NOMINAL_SECONDS[granularity]
        while s < stop and (limit is None or len(out) < limit):
            opens = first_open(s)
            if opens >= e:  # no ticks in the whole period (weekend): no candle
                s, e = alignment.bucket(opens, granularity)
                continue
            if opens >= now:
                break
            index = int(s.timestamp()) // step
            digits = inst.display_precision
            out.append(candle_at(s, index, digits=digits, base=base, spread=spread, complete=e <= now))
            s, e = alignment.bucket(e, granularity)
        return out

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
