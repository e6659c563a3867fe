from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from framework.catalog import MA_CROSSOVER
from tests.trading.execution.support import market  # noqa: F401  (the batch tests' market fixture)

# A Tuesday afternoon (UTC): the FX market is open, the previous two days include the weekend.
RUN_AT = datetime(2024, 3, 12, 14, 37, 5, tzinfo=UTC)


@pytest.fixture
def sim_eurusd(transactional_db, eurusd):
    """Real commits: bar-cache invalidation and order dispatch run on commit, as in production."""
    eurusd.simulated = True
    eurusd.save()
    return eurusd


@pytest.fixture
def ma_instance(paper_account, sim_eurusd, settings):
    from trading.services.instances import instance_create

    settings.BAR_WAIT_SECONDS = 0
    return instance_create(
        account=paper_account,
        instrument=sim_eurusd,
        strategy_id=MA_CROSSOVER,
        name="MA cross M1",
        timeframe=1,
        parameters={"FAST_PERIOD": 3, "SLOW_PERIOD": 8, "SL_ATR_MULTIPLIER": 2.0, "TP_ATR_MULTIPLIER": 3.0},
        risk_percent=Decimal("1.0"),
        max_open_orders=1,
    )
