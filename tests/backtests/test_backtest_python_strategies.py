"""The README walk-through, end to end: a user adds a Python strategy file, the workers load it, an instance is
created through the API, backtested, and run live on the paper broker; and the ML example's walk-forward:
one model per window, trained on in-sample bars only, reproducible, shown in the report."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db.models import F
from rest_framework.test import APIClient

from backtests.models import ModelArtifact, RunStatus
from backtests.services.artifacts import artifact_train
from backtests.services.runs import backtest_run_create, backtest_run_execute
from backtests.services.walkforward import walkforward_create
from backtests.services.walkforward_run import walkforward_execute
from framework.pystrategy import load_errors, load_strategies
from tests.backtests.conftest import BARS, T0
from trading.models import Bar, Execution, ExecutionStatus, Order, StrategyInstance
from trading.services.execution import execution_bar_close

USER_STRATEGY = '''
"""Close above its SMA buys, below sells: a user's first Python strategy."""
from framework.pystrategy import Param, Strategy
from framework.types import OrderType
from framework.warmup import atr_bars, sma_bars


class AboveAverage(Strategy):
    id = 7001
    name = "USER_ABOVE_AVERAGE"
    description = "Long above the SMA, short below; ATR stop."
    params = (
        Param("PERIOD", 20, 2, 500, integer=True, help="SMA period."),
        Param("SL_ATR_MULTIPLIER", 2.0, 0.0, 100.0, help="Stop in ATRs.", index=60),
        Param("ATR_AVERAGING_PERIOD", 14, 1, 1000, integer=True, help="ATR period.", index=62),
    )

    @classmethod
    def closed_bars(cls, p):
        return {0: max(sma_bars(int(p["PERIOD"])), atr_bars(int(p["ATR_AVERAGING_PERIOD"])))}

    def on_bar(self, ctx):
        close = float(ctx.bars()["close"][-2])
        average = ctx.sma(int(self.p["PERIOD"]))
        side = OrderType.BUY if close > average else OrderType.SELL
        other = OrderType.SELL if side == OrderType.BUY else OrderType.BUY
        if ctx.open_count(other):
            ctx.close(other)
        if not ctx.open_count(side):
            atr = ctx.atr(int(self.p["ATR_AVERAGING_PERIOD"]))
            ctx.open_market(side, self.p["SL_ATR_MULTIPLIER"] * atr, 0.0, atr)
'''


@pytest.fixture
def user_strategy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "above_average.py").write_text(textwrap.dedent(USER_STRATEGY))
    monkeypatch.setenv("ASIRIKUY_STRATEGIES_DIR", str(tmp_path))
    load_strategies(force=True)  # what a worker restart does
    yield 7001
    monkeypatch.delenv("ASIRIKUY_STRATEGIES_DIR")
    load_strategies(force=True)


@pytest.mark.django_db(transaction=True)
def test_walkthrough_add_a_file_create_backtest_and_run_live_on_paper(
    user_strategy, alice, paper_account, eurusd, stored_bars, settings
):
    settings.BAR_WAIT_SECONDS = 0
    api = APIClient()
    api.force_authenticate(alice)
    assert api.get("/api/v1/catalog/strategy-load-errors/").json() == []
    entry = api.get(f"/api/v1/catalog/strategies/{user_strategy}/").json()
    assert entry["name"] == "USER_ABOVE_AVERAGE" and entry["kind"] == "python"
    assert [p["name"] for p in entry["params"]] == ["PERIOD", "SL_ATR_MULTIPLIER", "ATR_AVERAGING_PERIOD"]

    created = api.post(
        "/api/v1/instances/",
        {
            "account": paper_account.pk,
            "instrument": "EURUSD",
            "strategy_id": user_strategy,
            "name": "my first Python strategy",
            "timeframe": 1,
            "parameters": {"PERIOD": 30},
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    instance = StrategyInstance.objects.get(pk=created.json()["instance_id"])
    refused = api.post(
        "/api/v1/instances/",
        {
            "account": paper_account.pk,
            "instrument": "EURUSD",
            "strategy_id": user_strategy,
            "name": "x",
            "timeframe": 1,
            "parameters": {"PERIOD": 1},
        },
        format="json",
    )
    assert refused.status_code == 400 and "PERIOD=1" in str(refused.json())

    run = backtest_run_create(instance=instance, engine="parity")
    run = backtest_run_execute(run_id=run.pk)
    assert run.status == RunStatus.DONE, run.error
    assert run.statistics["total_trades"] > 10

    last_open = datetime.fromtimestamp(T0 + (BARS - 1) * 60, tz=UTC)
    outcomes = execution_bar_close(
        account_id=paper_account.pk, timeframe=1, now=last_open + timedelta(minutes=1, seconds=5)
    )
    assert [o.status for o in outcomes] == ["ran"], outcomes
    execution = Execution.objects.get(instance=instance)
    assert execution.status == ExecutionStatus.SUCCESS and execution.return_code == 0
    assert Order.objects.filter(instance=instance).count() == 1  # the first run opens a position
    assert execution.signals[0]["action"] == "open"


@pytest.mark.django_db(transaction=True)
def test_a_python_strategy_that_fails_is_recorded_on_its_execution_and_the_batch_goes_on(
    tmp_path, monkeypatch, paper_account, eurusd, stored_bars, settings
):
    settings.BAR_WAIT_SECONDS = 0
    (tmp_path / "broken.py").write_text(
        "from framework.pystrategy import Strategy\n\n\nclass Broken(Strategy):\n    id = 7002\n    name = 'USER_BROKEN'\n\n"
        "    def on_bar(self, ctx):\n        raise RuntimeError('bad strategy')\n"
    )
    (tmp_path / "syntax.py").write_text("def broken(:\n")
    monkeypatch.setenv("ASIRIKUY_STRATEGIES_DIR", str(tmp_path))
    load_strategies(force=True)
    try:
        assert [Path(e.path).name for e in load_errors()] == ["syntax.py"]
        common = {"account": paper_account, "instrument": eurusd, "timeframe": 1, "max_open_orders": 1}
        broken = StrategyInstance.objects.create(instance_id=71, name="b", strategy_id=7002, **common)
        good = StrategyInstance.objects.create(
            instance_id=72, name="g", strategy_id=1100, parameters={"FAST_PERIOD": 2, "SLOW_PERIOD": 4}, **common
        )
        last_open = datetime.fromtimestamp(T0 + (BARS - 1) * 60, tz=UTC)
        outcomes = execution_bar_close(account_id=paper_account.pk, timeframe=1, now=last_open + timedelta(minutes=1))
        by_instance = {o.instance_id: o for o in outcomes}
        assert by_instance[71].status == "failed" and by_instance[72].status == "ran"
        failed = Execution.objects.get(instance=broken)
        assert failed.status == ExecutionStatus.FAILED and failed.return_code == -101
        assert "RuntimeError: bad strategy" in failed.error and "broken.py, line" in failed.error
        assert Execution.objects.get(instance=good).status == ExecutionStatus.SUCCESS
    finally:
        monkeypatch.delenv("ASIRIKUY_STRATEGIES_DIR")
        load_strategies(force=True)


@pytest.fixture
def ml_instance(paper_account, eurusd, stored_bars):
    return StrategyInstance.objects.create(
        instance_id=731,
        name="ml",
        account=paper_account,
        instrument=eurusd,
        strategy_id=1200,
        timeframe=1,
        parameters={"TREES": 10, "MAX_DEPTH": 3, "SEED": 5, "THRESHOLD": 0.52},
        max_open_orders=1,
    )


@pytest.mark.slow
@pytest.mark.django_db
def test_ml_walkforward_trains_one_model_per_window_on_in_sample_bars_only(ml_instance, alice):
    start = datetime.fromtimestamp(T0, tz=UTC)
    wf = walkforward_create(
        instance=ml_instance,
        start=start,
        in_sample=timedelta(hours=16),
        out_of_sample=timedelta(hours=4),
        windows=2,
        space={"THRESHOLD": [0.52, 0.55]},
        owner=alice,
    )
    wf = walkforward_execute(walk_forward_id=wf.pk)
    rows = list(wf.window_rows.select_related("model").order_by("index"))
    assert wf.status == RunStatus.DONE
    assert len({row.model_id for row in rows}) == 2
    for row in rows:
        model = row.model
        assert model.train_start >= row.in_sample_start
        assert model.train_end < row.out_of_sample_start  # never a bar it predicts
        assert model.bars == 16 * 60 and model.library_versions["scikit-learn"] == "1.9.1"
        assert model.parameters["SEED"] == 5 and len(model.sha256) == 64
        assert row.out_of_sample_statistics["total_trades"] > 0
    api = APIClient()
    api.force_authenticate(alice)
    detail = api.get(f"/api/v1/backtests/walkforwards/{wf.pk}/").json()
    assert [w["model"] for w in detail["window_rows"]] == [row.model_id for row in rows]
    report = api.get(f"/api/v1/backtests/walkforwards/{wf.pk}/report.html").content.decode()
    assert all(row.model.sha256[:12] in report for row in rows)

    # Reproducible: the same bars and seed give the same model, byte for byte.
    first = rows[0]
    again = artifact_train(instance=ml_instance, start=first.in_sample_start, end=first.in_sample_end)
    assert again.sha256 == first.model.sha256
    # No look-ahead: rewriting every bar at or after the window's out-of-sample start changes nothing in it.
    shift = {name: F(name) + 700 for name in ("open", "high", "low", "close")}
    assert Bar.objects.filter(instrument=ml_instance.instrument, time__gte=first.out_of_sample_start).update(**shift)
    after = artifact_train(instance=ml_instance, start=first.in_sample_start, end=first.in_sample_end)
    assert after.sha256 == first.model.sha256
    assert ModelArtifact.objects.count() == 4
