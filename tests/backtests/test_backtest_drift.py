"""Drift report: a real paper-traded history (execution_run bar by bar) against its parity replay.

The live instance is the execution tests' own (MA crossover M1 on the simulated EURUSD feed, paper account).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from rest_framework.test import APIClient

from backtests.models import DriftMatch, DriftReport, DriftVerdict, RunStatus
from backtests.services.drift import DriftError, drift_report_create, drift_report_execute
from backtests.services.drift_match import TradeView, pair_difference, trades_match
from backtests.tasks import drift_report_task
from tests.trading.execution import conftest as execution_fixtures
from trading.models import Bar, BrokerAccount, Execution, Trade, TradeState
from trading.services.execution import execution_run

# A Tuesday (UTC): the simulated feed has bars (FX market open) for the whole run.
RUN_AT = datetime(2024, 3, 12, 9, 0, 5, tzinfo=UTC)
BARS = 150
URL = "/api/v1/backtests/drift/"

sim_eurusd = execution_fixtures.sim_eurusd
live_instance = execution_fixtures.ma_instance  # MA crossover 3/8 M1, 1 % risk, one open trade at a time


@pytest.fixture
def live_history(live_instance):
    """The instance run on the paper broker at every bar close for BARS minutes; returns the bar range."""
    now = RUN_AT
    for _ in range(BARS):
        outcome = execution_run(instance_id=live_instance.instance_id, now=now)
        assert outcome.status == "ran", outcome.detail
        now += timedelta(minutes=1)
    bars = Execution.objects.filter(instance=live_instance).order_by("bar_time").values_list("bar_time", flat=True)
    assert Trade.objects.filter(instance=live_instance, state=TradeState.CLOSED).count() >= 4
    return bars.first(), bars.last()


def _report(instance, start, end, **kwargs) -> DriftReport:
    return drift_report_execute(
        report_id=drift_report_create(instance_id=instance.pk, start=start, end=end, **kwargs).pk
    )


@pytest.mark.slow
def test_a_paper_history_replays_without_drift(live_instance, live_history):
    start, end = live_history

    report = _report(live_instance, start, end)

    rows = list(report.rows.all())
    live = Trade.objects.filter(instance=live_instance)
    assert report.status == RunStatus.DONE, report.error
    assert report.verdict == DriftVerdict.MATCH, report.summary
    assert report.matched == live.count() == len(rows) and report.live_only == report.backtest_only == 0
    assert report.initial_balance == Decimal("10000.00")
    for row in rows:
        trade = live.get(pk=row.live_trade_id)
        assert (row.live_open_time, row.live_open_price, row.side) == (trade.open_time, trade.open_price, trade.side)
        assert row.backtest_open_time == trade.open_time and row.backtest_open_price == trade.open_price
        assert row.entry_slippage_points == 0 and row.open_offset_seconds == 0
        assert row.live_signal_bar == trade.open_time - timedelta(minutes=1)
        if trade.state == TradeState.CLOSED:
            assert row.backtest_close_price == trade.close_price and row.backtest_close_reason == trade.close_reason
            assert abs(row.profit_difference) < Decimal("0.01")
    closed = sum((t.realized_pl for t in live.filter(state=TradeState.CLOSED)), Decimal(0))
    assert report.live_profit == closed and abs(report.profit_difference) < Decimal("0.01")
    assert report.live_executions == BARS and report.live_executions_failed == 0


@pytest.mark.slow
def test_an_altered_fill_price_shows_as_slippage_on_that_trade_only(live_instance, live_history):
    start, end = live_history
    trade = Trade.objects.filter(instance=live_instance, state=TradeState.CLOSED).order_by("open_time")[1]
    worse = Decimal("0.00030") if trade.side == "buy" else Decimal("-0.00030")  # 30 points against the account
    cost = Decimal("0.00030") * trade.initial_units
    Trade.objects.filter(pk=trade.pk).update(open_price=trade.open_price + worse, realized_pl=trade.realized_pl - cost)
    BrokerAccount.objects.filter(pk=trade.account_id).update(balance=F("balance") - cost)  # the account paid it

    report = _report(live_instance, start, end)

    assert (
        report.verdict == DriftVerdict.PRICE_DRIFT
        and report.matched == Trade.objects.filter(instance=live_instance).count()
    )
    drifted = [r for r in report.rows.all() if r.entry_slippage_points]
    assert [(r.live_trade_id, r.entry_slippage_points) for r in drifted] == [(trade.pk, 30)]
    # EURUSD in a USD account: 30 points x units / 10^5.
    expected = (Decimal(30) * trade.initial_units / Decimal(10**5)).quantize(Decimal("0.000001"))
    assert drifted[0].entry_slippage == expected == report.entry_slippage
    assert drifted[0].profit_difference == -expected == report.profit_difference.quantize(Decimal("0.000001"))
    assert all(
        r.profit_difference is None or abs(r.profit_difference) < Decimal("0.01")
        for r in report.rows.all()
        if r.live_trade_id != trade.pk
    )


@pytest.mark.slow
def test_a_dropped_live_trade_is_reported_only_in_the_replay(live_instance, live_history):
    start, end = live_history
    trade = Trade.objects.filter(instance=live_instance, state=TradeState.CLOSED).order_by("open_time")[2]
    open_time, side = trade.open_time, trade.side
    trade.orders.update(trade=None)
    trade.delete()

    report = _report(live_instance, start, end)

    assert report.verdict == DriftVerdict.TRADE_DRIFT
    assert (report.live_only, report.backtest_only) == (0, 1)
    only = report.rows.get(match=DriftMatch.BACKTEST_ONLY)
    assert (only.backtest_open_time, only.side, only.live_trade_id) == (open_time, side, None)
    assert re.search(r"placed [1-9]\d* orders", only.note), only.note  # the live run did signal
    assert report.matched == Trade.objects.filter(instance=live_instance).count()


@pytest.mark.slow
def test_bad_input_is_refused_with_a_clear_error(live_instance, live_history):
    start, end = live_history
    with pytest.raises(DriftError, match="instance 999 does not exist"):
        drift_report_create(instance_id=999, start=start, end=end)
    with pytest.raises(DriftError, match="the period is empty"):
        drift_report_create(instance_id=live_instance.pk, start=end, end=start)
    with pytest.raises(DriftError, match="no live runs"):
        drift_report_create(instance_id=live_instance.pk, start=end + timedelta(days=1), end=end + timedelta(days=2))
    assert not DriftReport.objects.exists()
    report = drift_report_create(instance_id=live_instance.pk, start=start, end=end)
    Bar.objects.filter(instrument=live_instance.instrument, time__gte=start).delete()
    with pytest.raises(DriftError, match="no bars to replay for EURUSD M1"):
        drift_report_execute(report_id=report.pk)
    report.refresh_from_db()
    assert report.status == RunStatus.FAILED and "no bars to replay" in report.error and not report.rows.exists()


@pytest.mark.slow
def test_api_task_dashboard_admin_and_command(
    alice, bob, django_user_model, live_instance, live_history, client, monkeypatch, capsys
):
    start, end = live_history
    sent = []
    monkeypatch.setattr(drift_report_task, "apply_async", lambda **kw: sent.append(kw))  # Celery dispatch only
    api = APIClient()
    api.force_authenticate(alice)
    body = {"instance": live_instance.pk, "start": start.isoformat(), "end": end.isoformat()}

    created = api.post(URL, body, format="json")

    assert created.status_code == 201, created.json()
    report_id = created.json()["id"]
    assert sent == [{"args": (report_id,), "task_id": created.json()["task_id"]}]
    assert drift_report_task.apply(args=[report_id]).get()["verdict"] == DriftVerdict.MATCH  # what the worker runs
    detail = api.get(f"{URL}{report_id}/").json()
    assert detail["status"] == "done" and detail["verdict"] == "match"
    assert len(detail["rows"]) == detail["matched"] == Trade.objects.filter(instance=live_instance).count()
    assert [r["id"] for r in api.get(URL).json()["results"]] == [report_id]
    empty = api.post(URL, {**body, "start": body["end"], "end": body["start"]}, format="json")
    assert empty.status_code == 400 and "the period is empty" in str(empty.json())
    api.force_authenticate(bob)
    assert api.get(f"{URL}{report_id}/").status_code == 404
    assert "no instance" in str(api.post(URL, body, format="json").json())

    client.force_login(alice)
    page = client.get(f"/backtests/drift/{report_id}/")
    assert page.status_code == 200 and "Match (same trades at the same prices)" in page.text
    assert page.text.count("<tr>") == detail["matched"] + 1
    assert f"/backtests/drift/{report_id}/" in client.get("/backtests/drift/").text
    client.force_login(django_user_model.objects.create_superuser("root", password="root-pass-123"))
    assert client.get(f"/admin/backtests/driftreport/{report_id}/change/").status_code == 200
    assert f"/backtests/drift/{report_id}/" in client.get("/admin/backtests/driftreport/").text

    call_command("drift", str(live_instance.pk), "--start", start.isoformat(), "--end", end.isoformat())
    out = capsys.readouterr().out
    assert "verdict: match" in out and out.count(" both ") == detail["matched"]
    with pytest.raises(CommandError, match="instance 999 does not exist"):
        call_command("drift", "999", "--start", start.isoformat(), "--end", end.isoformat())


def _view(ref, side, minute, price="1.10000", second=0):
    return TradeView(
        ref=ref,
        side=side,
        units=Decimal(1000),
        open_time=RUN_AT.replace(second=0) + timedelta(minutes=minute, seconds=second),
        open_price=Decimal(price),
        close_time=None,
        close_price=None,
        profit=None,
        close_reason="",
    )


def test_trades_pair_by_side_within_the_tolerance_nearest_first():
    live = [_view(1, "buy", 0, second=20), _view(2, "sell", 5), _view(3, "buy", 30)]
    replay = [_view(11, "buy", 0), _view(12, "buy", 1), _view(13, "buy", 5), _view(14, "sell", 6, second=30)]

    pairs = trades_match(live, replay, tolerance=timedelta(seconds=60))

    assert [(p.live and p.live.ref, p.backtest and p.backtest.ref) for p in pairs] == [
        (1, 11),
        (None, 12),
        (2, None),
        (None, 13),
        (None, 14),
        (3, None),
    ]
    assert pair_difference(pairs[0], digits=5, rate=Decimal(1), period_end=RUN_AT).open_offset_seconds == 20
