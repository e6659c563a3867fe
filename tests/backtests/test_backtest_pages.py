"""The backtester from the dashboard: forms that start jobs (validated as the API validates), live progress,
the report with labelled statistics, and applying an optimisation pass to an instance."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from backtests.models import BacktestRun, Optimization, WalkForward
from backtests.services.optimization import optimization_pass_execute
from backtests.services.runs import backtest_run_execute
from trading.models import AccountShare, StrategyInstance


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def _costs(**extra):
    data = {
        "engine": "fast",
        "initial_balance": "10000",
        "commission_per_lot": "7",
        "swap_long_per_lot": "0",
        "swap_short_per_lot": "0",
        "slippage_points": "1",
        "min_stop_points": "0",
        "min_stop_mode": "reject",
    }
    data.update(extra)
    return data


def test_a_backtest_form_queues_a_run_with_its_costs_and_parameters(alice_client, ma_instance):
    response = alice_client.post(
        "/backtests/new/",
        _costs(instance=ma_instance.pk, start="2024-01-02", end="2024-01-03", parameters="FAST_PERIOD=3\n"),
    )

    run = BacktestRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/backtests/{run.pk}/"
    assert run.status == "pending" and run.engine == "fast" and run.parameters["FAST_PERIOD"] == 3.0
    assert run.costs["commission_per_lot"] == 7.0 and run.costs["slippage_points"] == 1
    assert run.start.isoformat() == "2024-01-02T00:00:00+00:00"


@pytest.mark.parametrize(
    ("extra", "field", "text"),
    [
        ({"parameters": "FAST_PERIOD=0"}, "parameters", "FAST_PERIOD must be an integer in [1, 500] (was 0.0)"),
        ({"parameters": "NOPE=1"}, "parameters", "MA_CROSSOVER has no parameter NOPE"),
        ({"parameters": "FAST_PERIOD"}, "parameters", "line 1: write NAME=number"),
        ({"start": "2024-01-03", "end": "2024-01-02"}, "end", "must be after start"),
    ],
)
def test_a_bad_backtest_form_names_the_field(alice_client, ma_instance, extra, field, text):
    response = alice_client.post("/backtests/new/", _costs(instance=ma_instance.pk, **extra))

    assert response.status_code == 400
    assert text in " ".join(response.context["form"].errors[field])
    assert not BacktestRun.objects.exists()


def test_a_viewer_cannot_pick_the_shared_instance(client, bob, ma_instance):
    AccountShare.objects.create(account=ma_instance.account, user=bob, role="viewer")
    client.force_login(bob)

    response = client.post("/backtests/new/", _costs(instance=ma_instance.pk))

    assert response.status_code == 400 and "instance" in response.context["form"].errors


def test_progress_is_polled_while_open_and_links_the_report_when_done(alice_client, ma_instance):
    alice_client.post("/backtests/new/", _costs(instance=ma_instance.pk, engine="parity"))
    run = BacktestRun.objects.get()

    pending = alice_client.get(f"/backtests/progress/backtest/{run.pk}/").content.decode()
    backtest_run_execute(run_id=run.pk)
    done = alice_client.get(f"/backtests/progress/backtest/{run.pk}/").content.decode()
    report = alice_client.get(f"/backtests/{run.pk}/").content.decode()

    assert 'hx-trigger="every 2s"' in pending and "<progress" in pending
    assert "hx-get" not in done and f'href="/backtests/{run.pk}/" data-report' in done
    assert "MA_CROSSOVER on EURUSD M1" in report
    for label in (
        "Total Net Profit",
        "Sortino Ratio",
        "Compound Annual Growth Rate (CAGR)",
        "Calmar Ratio",
        "Exposure (time in the market)",
        "Final Balance",
        "Initial Deposit",
    ):
        assert f'<th scope="row">{label}</th>' in report
    figures = re.findall(r'data-stat="(\w+)">([^<]*)<', report)
    assert len(figures) > 20 and all(re.fullmatch(r"–|-?[\d,]+(\.\d{2,3})?%?", v) for _, v in figures), figures


def test_optimisation_and_walk_forward_forms_queue_their_jobs(alice_client, ma_instance):
    opt = alice_client.post(
        "/backtests/optimizations/new/",
        _costs(instance=ma_instance.pk, space="FAST_PERIOD 2 6 2\nSLOW_PERIOD 20,30", method="grid", samples=0, seed=0),
    )
    wf = alice_client.post(
        "/backtests/walkforwards/new/",
        _costs(
            instance=ma_instance.pk,
            space="FAST_PERIOD 2 4 2",
            method="grid",
            samples=0,
            seed=0,
            start="2024-01-02",
            mode="rolling",
            in_sample_days=1,
            out_of_sample_days=1,
            windows=1,
            select_by="net_profit",
            select_order="desc",
        ),
    )
    bad = alice_client.post("/backtests/optimizations/new/", _costs(instance=ma_instance.pk, space="FAST_PERIOD 2 6"))

    optimization = Optimization.objects.get(walk_forward_windows__isnull=True)
    assert opt.status_code == 302 and optimization.passes_total == 6
    assert wf.status_code == 302 and WalkForward.objects.get().windows == 1
    assert bad.status_code == 400 and "NAME MIN MAX STEP" in bad.content.decode()


def test_a_pass_is_applied_to_the_instance_or_to_a_new_disabled_copy(alice_client, ma_instance):
    alice_client.post(
        "/backtests/optimizations/new/",
        _costs(instance=ma_instance.pk, space="FAST_PERIOD 3 4 1", method="grid", samples=0, seed=0),
    )
    optimization = Optimization.objects.get()
    for p in optimization.passes.all():
        optimization_pass_execute(pass_id=p.pk)
    best = optimization.passes.get(parameters__FAST_PERIOD=4)

    page = alice_client.get(f"/backtests/optimizations/{optimization.pk}/").content.decode()
    update = alice_client.post(
        f"/backtests/optimizations/{optimization.pk}/passes/{best.pk}/apply/", {"mode": "update"}
    )
    create = alice_client.post(
        f"/backtests/optimizations/{optimization.pk}/passes/{best.pk}/apply/", {"mode": "create"}
    )

    copy = StrategyInstance.objects.exclude(pk=ma_instance.pk).get()
    assert "Total Net Profit" in page and "Apply pass" in page
    assert update.status_code == 302 and update["Location"] == f"/instances/{ma_instance.pk}/"
    assert StrategyInstance.objects.get(pk=ma_instance.pk).parameters["FAST_PERIOD"] == 4
    assert create["Location"] == f"/instances/{copy.pk}/" and copy.enabled is False


@pytest.fixture
def finished_run(alice_client, ma_instance):
    alice_client.post("/backtests/new/", _costs(instance=ma_instance.pk, parameters="FAST_PERIOD=3\nSLOW_PERIOD=9"))
    run = BacktestRun.objects.get()
    return backtest_run_execute(run_id=run.pk)


def test_the_report_draws_zoomable_candles_with_every_trade_and_equity_with_drawdown(alice_client, finished_run):
    run = finished_run
    trades = list(run.trades.all())

    page = alice_client.get(f"/backtests/{run.pk}/").content.decode()
    price = alice_client.get(f"/backtests/{run.pk}/chart/price.json").json()
    equity = alice_client.get(f"/backtests/{run.pk}/chart/equity.json").json()

    assert f'data-url="/backtests/{run.pk}/chart/price.json"' in page and "<svg" not in page
    assert len(trades) > 1 and len(price["candles"]) >= run.bars_tested
    assert sum(m["shape"] == "circle" for m in price["markers"]) == len(trades)  # one exit dot a trade
    assert sorted(m["text"] for m in price["markers"] if m["text"]) == sorted(f"#{t.ticket}" for t in trades)
    assert [m["time"] for m in price["markers"]] == sorted(m["time"] for m in price["markers"])
    assert len(equity["equity"]) == len(run.curve["time"]) and equity["currency"] == "USD"
    assert all(p["value"] <= 0 for p in equity["drawdown"]) and min(p["value"] for p in equity["drawdown"]) < 0
    # the standalone one-page report keeps its inline charts
    assert "<svg" in alice_client.get(f"/api/v1/backtests/{run.pk}/report.html").content.decode()


def test_the_reports_trades_sort_by_profit_and_the_runs_by_a_statistic(alice_client, ma_instance, finished_run):
    run = finished_run
    alice_client.post("/backtests/new/", _costs(instance=ma_instance.pk))  # pending: no statistics yet
    best = max(run.trades.all(), key=lambda t: t.profit)

    trades = alice_client.get(f"/backtests/{run.pk}/?sort=-profit").content.decode()
    by_profit = alice_client.get("/backtests/?sort=-net_profit").content.decode()
    ascending = alice_client.get("/backtests/?sort=net_profit").content.decode()

    first_row = re.search(r"<tbody>\s*<tr><td class=\"num\">(\d+)</td>", trades)
    assert first_row and int(first_row.group(1)) == best.ticket
    assert 'aria-sort="descending"><a href="?sort=profit">Profit ▼' in trades
    runs = [re.findall(r'href="/backtests/(\d+)/">\1</a>', html) for html in (by_profit, ascending)]
    assert runs[0][0] == runs[1][0] == str(run.pk)  # the run without results is last both ways


def test_a_backtests_parameters_are_applied_to_its_instance_or_a_disabled_copy(
    alice_client, bob, ma_instance, finished_run
):
    run = finished_run
    AccountShare.objects.create(account=ma_instance.account, user=bob, role="viewer")
    client = Client()
    client.force_login(bob)

    viewer_page = client.get(f"/backtests/{run.pk}/").content.decode()
    refused = client.post(f"/backtests/{run.pk}/apply/", {"mode": "update"})
    untouched = StrategyInstance.objects.get(pk=ma_instance.pk).parameters
    page = alice_client.get(f"/backtests/{run.pk}/").content.decode()
    update = alice_client.post(f"/backtests/{run.pk}/apply/", {"mode": "update"})
    create = alice_client.post(f"/backtests/{run.pk}/apply/", {"mode": "create"})

    copy = StrategyInstance.objects.exclude(pk=ma_instance.pk).get()
    assert "Apply these parameters" not in viewer_page and refused.status_code in (302, 404)
    assert untouched == {"FAST_PERIOD": 5, "SLOW_PERIOD": 20}
    assert f"Apply these parameters to instance #{ma_instance.pk}" in page
    assert update["Location"] == f"/instances/{ma_instance.pk}/"
    assert StrategyInstance.objects.get(pk=ma_instance.pk).parameters == {"FAST_PERIOD": 3, "SLOW_PERIOD": 9}
    assert create["Location"] == f"/instances/{copy.pk}/" and copy.enabled is False
    assert copy.parameters == {"FAST_PERIOD": 3, "SLOW_PERIOD": 9} and copy.name == f"bt ma (backtest {run.pk})"
