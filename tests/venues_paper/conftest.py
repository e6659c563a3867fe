from __future__ import annotations

import pytest

from framework.catalog import MA_CROSSOVER


@pytest.fixture
def ma_like_instance(paper_account, eurusd):
    from trading.models import StrategyInstance

    return StrategyInstance.objects.create(
        instance_id=77,
        name="paper test",
        account=paper_account,
        instrument=eurusd,
        strategy_id=MA_CROSSOVER,
        timeframe=1,
    )
