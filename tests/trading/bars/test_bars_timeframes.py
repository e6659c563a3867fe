"""Derivation checked against bars computed by hand across the US DST change of Sunday 2024-03-10,
a weekend (with a stray Saturday bar) and the 17:00 New York roll."""

from __future__ import annotations

import numpy as np
import pytest

from tests.trading.bars.conftest import utc
from trading.bars.timeframes import BAR_DTYPE, DerivationError, bars_derive

M1_TIMES = [
    utc(2024, 3, 8, 20, 58),  # 0  Friday 15:58 EST
    utc(2024, 3, 8, 20, 59),  # 1
    utc(2024, 3, 8, 21, 58),  # 2  Friday 16:58 EST
    utc(2024, 3, 8, 21, 59),  # 3  last minute before the Friday 17:00 close
    utc(2024, 3, 9, 10, 0),  # 4  a stray Saturday bar
    utc(2024, 3, 10, 21, 0),  # 5  Sunday 17:00 EDT: the week opens, one hour earlier in UTC than before
    utc(2024, 3, 10, 21, 1),  # 6
    utc(2024, 3, 11, 20, 59),  # 7  Monday 16:59 EDT
    utc(2024, 3, 11, 21, 0),  # 8  Monday 17:00 EDT: Tuesday's trading day
]


def m1():
    bars = np.zeros(len(M1_TIMES), dtype=BAR_DTYPE)
    k = np.arange(len(M1_TIMES))
    bars["time"] = [int(t.timestamp()) for t in M1_TIMES]
    bars["open"] = 100000 + 10 * k
    bars["high"] = bars["open"] + 5 + k
    bars["low"] = bars["open"] - 3 - k
    bars["close"] = bars["open"] + 1
    bars["volume"] = 1 + k
    bars["spread"] = -1
    bars["complete"] = True
    return bars


def by_hand(open_time, members, complete=True):
    src = m1()[members]
    return (
        int(open_time.timestamp()),
        int(src["open"][0]),
        int(src["high"].max()),
        int(src["low"].min()),
        int(src["close"][-1]),
        int(src["volume"].sum()),
        -1,
        complete,
    )


KNOWN_FROM = utc(2024, 3, 1, 0, 0)  # the source is known complete from long before its first bar


def derived(timeframe, align_tz="OANDA"):
    return bars_derive(
        m1(), source_timeframe=1, timeframe=timeframe, align_tz=align_tz, complete_from=KNOWN_FROM
    ).tolist()


@pytest.mark.parametrize("timeframe", [60, 240, 1440, 10080])
def test_a_bar_opening_before_the_source_starts_is_partial_and_incomplete(timeframe):
    # The series starts Friday 20:58 UTC, mid-way through its H1, H4, D1 and W1 bars.
    bars = bars_derive(m1(), source_timeframe=1, timeframe=timeframe)
    assert bars["time"][0] < M1_TIMES[0].timestamp()
    assert not bars["complete"][0]
    assert bars["complete"][1:-1].all()  # the bars after it (but the still-open last one) are complete
    known = bars_derive(m1(), source_timeframe=1, timeframe=timeframe, complete_from=KNOWN_FROM)
    assert known["complete"][0]


def test_h1_is_aligned_to_utc_hours():
    assert derived(60) == [
        by_hand(utc(2024, 3, 8, 20), [0, 1]),
        by_hand(utc(2024, 3, 8, 21), [2, 3]),
        by_hand(utc(2024, 3, 9, 10), [4]),
        by_hand(utc(2024, 3, 10, 21), [5, 6]),
        by_hand(utc(2024, 3, 11, 20), [7]),
        by_hand(utc(2024, 3, 11, 21), [8], complete=False),
    ]


def test_h4_follows_the_new_york_roll_through_the_dst_change():
    # EST: H4 opens at 22, 2, 6, 10, 14, 18 UTC; EDT: 21, 1, 5, 9, 13, 17 UTC. Saturday is dropped.
    assert derived(240) == [
        by_hand(utc(2024, 3, 8, 18), [0, 1, 2, 3]),
        by_hand(utc(2024, 3, 10, 21), [5, 6]),
        by_hand(utc(2024, 3, 11, 17), [7]),
        by_hand(utc(2024, 3, 11, 21), [8], complete=False),
    ]


def test_d1_opens_at_17_new_york_and_drops_saturday():
    assert derived(1440) == [
        by_hand(utc(2024, 3, 7, 22), [0, 1, 2, 3]),  # Friday's bar opened Thursday 17:00 EST
        by_hand(utc(2024, 3, 10, 21), [5, 6, 7]),  # Monday's bar opened Sunday 17:00 EDT
        by_hand(utc(2024, 3, 11, 21), [8], complete=False),
    ]


def test_d1_of_a_gmt2_us_dst_broker_equals_the_new_york_roll():
    assert derived(1440, "MT_GMT2_US_DST") == derived(1440, "OANDA")
    assert derived(240, "MT_GMT2_US_DST") == derived(240, "OANDA")


def test_d1_on_a_utc_clock_merges_the_sunday_stub_into_monday():
    assert derived(1440, "UTC") == [
        by_hand(utc(2024, 3, 8), [0, 1, 2, 3]),
        by_hand(utc(2024, 3, 11), [5, 6, 7, 8], complete=False),
    ]


def test_w1_opens_at_the_sunday_new_york_open():
    assert derived(10080) == [
        by_hand(utc(2024, 3, 3, 22), [0, 1, 2, 3]),
        by_hand(utc(2024, 3, 10, 21), [5, 6, 7, 8], complete=False),
    ]


def test_mn_is_the_calendar_month_of_the_new_york_trading_day():
    assert derived(43200) == [by_hand(utc(2024, 2, 29, 22), [0, 1, 2, 3, 5, 6, 7, 8], complete=False)]


def test_friday_close_completes_the_week_and_the_day():
    friday = m1()[:4]
    daily = bars_derive(friday, source_timeframe=1, timeframe=1440, complete_from=KNOWN_FROM)
    weekly = bars_derive(friday, source_timeframe=1, timeframe=10080, complete_from=KNOWN_FROM)

    assert daily["complete"].tolist() == [True]
    assert weekly["complete"].tolist() == [True]


def test_derivation_refuses_a_coarser_or_misaligned_source():
    with pytest.raises(DerivationError):
        bars_derive(m1(), source_timeframe=60, timeframe=5)
    with pytest.raises(DerivationError, match="not aligned to 5m"):
        bars_derive(m1(), source_timeframe=5, timeframe=60)
