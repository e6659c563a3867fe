"""Backtests through the API, the Celery task, the admin action and the report pages (owner-scoped)."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.admin.sites import site
from rest_framework.test import APIClient

from backtests.models import BacktestRun, BacktestTrade, RunStatus
from backtests.services.runs import backtest_run_create
from backtests.tasks import backtest_run_task
from trading.models import StrategyInstance

pytestmark = pytest.mark.django_db
URL = "/api/v1/backtests/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_create_queues_a_run_and_the_task_stores_its_results(alice, ma_instance, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client_for(alice).post(
            URL,
            {"instance": ma_instance.pk, "engine": "fast", "commission_per_lot": 7, "parameters": {"FAST_PERIOD": 6}},
            format="json",
        )
    assert response.status_code == 201, response.data
    body = response.json()
    assert body["status"] == "pending" and body["task_id"] and len(queued) == 1
    assert body["parameters"]["FAST_PERIOD"] == 6 and body["costs"]["commission_per_lot"] == 7.0

    result = backtest_run_task.apply(args=[body["id"]]).get()

    run = BacktestRun.objects.get(pk=body["id"])
    assert result == {"run_id": run.pk, "status": "done", "net_profit": run.statistics["net_profit"]}
    assert run.status == RunStatus.DONE and run.progress == 1.0 and run.owner == alice
    detail = client_for(alice).get(f"{URL}{run.pk}/").json()
    assert detail["statistics"]["total_trades"] == BacktestTrade.objects.filter(run=run).count() > 10


def test_the_parity_task_reports_progress_on_the_run(ma_instance):
    run = backtest_run_create(instance=ma_instance)
    backtest_run_task.apply(args=[run.pk])
    run.refresh_from_db()
    # 3,000 stored bars less the window the strategy is handed (ATR(14) settled: framework/warmup.py)
    assert run.status == RunStatus.DONE and run.progress == 1.0 and run.bars_tested > 2500


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"engine": "turbo"}, "engine"),
        ({"start": "2024-01-03T00:00:00Z", "end": "2024-01-02T00:00:00Z"}, "end"),
        ({"slippage_points": -1}, "slippage_points"),
        ({"parameters": {"FAST_PERIOD": 0}}, "parameters"),
        ({"parameters": {"NOPE": 1}}, "parameters"),
        ({"initial_balance": 0}, "initial_balance"),
    ],
)
def test_create_rejects_bad_input_naming_the_field(alice, ma_instance, payload, field):
    response = client_for(alice).post(URL, {"instance": ma_instance.pk, **payload}, format="json")
    assert response.status_code == 400 and field in response.json()["extra"]["fields"]


def test_runs_are_scoped_to_their_owner(alice, bob, ma_instance):
    run = backtest_run_create(instance=ma_instance, owner=alice)
    assert client_for(bob).post(URL, {"instance": ma_instance.pk}, format="json").status_code == 400
    assert client_for(bob).get(URL).json()["count"] == 0
    for suffix in ("", "trades.csv", "report.html"):
        assert client_for(bob).get(f"{URL}{run.pk}/{suffix}").status_code == 404
    assert client_for(alice).get(URL).json()["count"] == 1


def test_csv_and_report_show_the_trades(alice, ma_instance):
    run = backtest_run_create(instance=ma_instance, owner=alice)
    backtest_run_task.apply(args=[run.pk])
    client = client_for(alice)

    rows = list(csv.DictReader(io.StringIO(client.get(f"{URL}{run.pk}/trades.csv").content.decode())))
    report = client.get(f"{URL}{run.pk}/report.html")
    client.force_login(alice)
    page = client.get(f"/backtests/{run.pk}/")

    trades = list(BacktestTrade.objects.filter(run=run).order_by("close_time", "ticket"))
    assert [int(r["ticket"]) for r in rows] == [t.ticket for t in trades]
    assert rows[-1]["balance"] == str(trades[-1].balance)
    html = report.content.decode()
    assert report.status_code == 200 and html.count("<svg") == 2 and "<script" not in html
    assert "Total Net Profit" in html and html.count("<title>#") == 2 * min(len(trades), 400)
    assert page.status_code == 200 and "Profit Factor" in page.content.decode()


def test_dashboard_list_shows_only_the_callers_backtests(alice, bob, ma_instance, client):
    run = backtest_run_create(instance=ma_instance, owner=alice)
    backtest_run_task.apply(args=[run.pk])
    run.refresh_from_db()

    client.force_login(alice)
    mine = client.get("/backtests/").content.decode()
    client.force_login(bob)
    theirs = client.get("/backtests/").content.decode()

    assert f'href="/backtests/{run.pk}/"' in mine
    assert str(run.statistics["total_trades"]) in mine and "done" in mine
    assert f'href="/backtests/{run.pk}/"' not in theirs and "No backtests yet." in theirs


def test_admin_action_queues_a_30_day_backtest(alice, ma_instance, rf, django_capture_on_commit_callbacks):
    from django.contrib.messages.storage.fallback import FallbackStorage

    model_admin = site._registry[StrategyInstance]
    request = rf.post("/admin/")
    request.user = alice
    request.session = {}
    request._messages = FallbackStorage(request)
    action = dict((name, func) for func, name, _ in model_admin._get_base_actions())["backtest_last_30_days"]
    with django_capture_on_commit_callbacks(execute=False) as queued:
        action(model_admin, request, StrategyInstance.objects.filter(pk=ma_instance.pk))
    run = BacktestRun.objects.get()
    assert len(queued) == 1 and run.instance == ma_instance and run.owner == alice
    assert (run.end - run.start).days == 30


def test_admin_changelists_render_for_a_superuser(django_user_model, ma_instance, client):
    from backtests.services.optimization import optimization_create

    admin_user = django_user_model.objects.create_superuser("root", password="root-pass-123")
    run = backtest_run_create(instance=ma_instance)
    backtest_run_task.apply(args=[run.pk])
    optimization_create(instance=ma_instance, space={"FAST_PERIOD": [7]})
    client.force_login(admin_user)
    for name in ("backtestrun", "backtesttrade", "optimization", "optimizationpass"):
        assert client.get(f"/admin/backtests/{name}/").status_code == 200
    assert client.get("/admin/backtests/optimizationpass/?o=5").status_code == 200  # sorted by a statistic
    assert client.get(f"/admin/backtests/backtestrun/{run.pk}/change/").status_code == 200
