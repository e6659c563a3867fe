"""Stored backtest runs: the command and the service on bars in PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from backtests.engine.market import Costs
from backtests.models import BacktestRun, BacktestTrade, RunStatus
from backtests.services.runs import backtest_run_create, backtest_run_execute, engine_run

pytestmark = pytest.mark.django_db


def test_backtest_command_stores_a_run_with_trades_and_statistics(ma_instance):
    out = StringIO()
    call_command("backtest", str(ma_instance.pk), "--commission", "7", "--slippage", "1", "--no-progress", stdout=out)
    run = BacktestRun.objects.get()
    trades = list(BacktestTrade.objects.filter(run=run))
    assert run.status == RunStatus.DONE and run.progress == 1.0
    assert len(trades) > 10
    assert run.statistics["total_trades"] == len(trades)
    net = sum((t.profit for t in trades), Decimal(0))
    assert Decimal(repr(run.statistics["net_profit"])).quantize(Decimal("0.01")) == net.quantize(Decimal("0.01"))
    assert trades[-1].balance == (run.initial_balance + net)
    assert all(t.commission > 0 for t in trades)
    assert run.library_version.startswith("5.") and run.costs["commission_per_lot"] == 7.0
    assert len(run.curve["equity"]) == min(run.bars_tested, 2000)  # downsampled for storage
    assert f"backtest {run.pk}" in out.getvalue()


def test_a_range_tests_only_its_bars_after_the_warm_up(ma_instance, walk):
    start = datetime.fromtimestamp(int(walk["time"][1000]), tz=UTC)
    end = datetime.fromtimestamp(int(walk["time"][1999]), tz=UTC)
    run = backtest_run_create(instance=ma_instance, start=start, end=end)
    run = backtest_run_execute(run_id=run.pk)
    assert run.bars_tested == 1000
    assert run.first_bar == datetime.fromtimestamp(int(walk["time"][1000]) + 60, tz=UTC)  # its close
    assert all(start <= t.open_time for t in run.trades.all())


def test_pending_orders_fill_and_hit_stops(breakout_instance):
    output = engine_run(
        instance=breakout_instance,
        start=None,
        end=None,
        costs=Costs(spread_points=5),
        initial_balance=10_000.0,
        engine="parity",
        account_currency="USD",
    )
    kinds = {(t.order_type, t.reason) for t in output.result.trades}
    assert ("stop", "stop_loss") in kinds and ("stop", "take_profit") in kinds


def test_a_failing_run_is_marked_failed(ma_instance):
    run = backtest_run_create(instance=ma_instance, start=datetime(2030, 1, 1, tzinfo=UTC))
    with pytest.raises(Exception, match="no 1-minute bars"):
        backtest_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "no 1-minute bars" in run.error
