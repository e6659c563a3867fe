"""Backtest fixtures: stored M1 bars of a random walk and instances of every catalog strategy on them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from backtests.engine.synthetic import random_walk
from framework.catalog import CHANNEL_BREAKOUT, MA_CROSSOVER

BARS = 3000
T0 = 1_704_153_600  # 2024-01-02 00:00 UTC


@pytest.fixture
def walk():
    return random_walk(BARS, seed=11, t0=T0)


@pytest.fixture
def stored_bars(eurusd, walk):
    from trading.models import Bar

    Bar.objects.bulk_create(
        [
            Bar(
                instrument=eurusd,
                timeframe=1,
                time=datetime.fromtimestamp(int(t), tz=UTC),
                open=int(o),
                high=int(h),
                low=int(lo),
                close=int(c),
                volume=1,
            )
            for t, o, h, lo, c in zip(walk["time"], walk["open"], walk["high"], walk["low"], walk["close"], strict=True)
        ]
    )
    return walk


@pytest.fixture
def ma_instance(paper_account, eurusd, stored_bars):
    from trading.models import StrategyInstance

    return StrategyInstance.objects.create(
        instance_id=501,
        name="bt ma",
        account=paper_account,
        instrument=eurusd,
        strategy_id=MA_CROSSOVER,
        timeframe=1,
        parameters={"FAST_PERIOD": 5, "SLOW_PERIOD": 20},
        max_open_orders=2,
    )


@pytest.fixture
def breakout_instance(paper_account, eurusd, stored_bars):
    from trading.models import StrategyInstance

    return StrategyInstance.objects.create(
        instance_id=502,
        name="bt channel",
        account=paper_account,
        instrument=eurusd,
        strategy_id=CHANNEL_BREAKOUT,
        timeframe=1,
        parameters={"CHANNEL_PERIOD": 15, "EXPIRY_BARS": 3},
        max_open_orders=2,
    )
