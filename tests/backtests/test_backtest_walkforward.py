"""Walk-forward: window splitting, stitching, efficiency and stability on hand-computed numbers, end to end."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from backtests.models import OptimizationPass, RunStatus, WalkForward, WindowMode
from backtests.services.optimization import optimization_passes_sorted
from backtests.services.runs import backtest_run_create, backtest_run_execute
from backtests.services.walkforward import (
    Segment,
    WalkForwardError,
    annualised_return,
    parameter_stability,
    stitch_curves,
    walkforward_create,
    walkforward_efficiency,
    walkforward_windows,
)
from backtests.services.walkforward_run import walkforward_execute
from backtests.tasks import walkforward_pass_task, walkforward_stitch_task, walkforward_task
from tests.backtests.conftest import T0

URL = "/api/v1/backtests/walkforwards/"
SECOND = timedelta(seconds=1)


def d(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _ranges(windows):
    return [(w.in_sample_start, w.in_sample_end, w.out_of_sample_start, w.out_of_sample_end) for w in windows]


def test_rolling_windows_move_the_in_sample_start_by_one_out_of_sample_length():
    windows = walkforward_windows(
        start=d(2024, 1, 1),
        in_sample=timedelta(days=90),
        out_of_sample=timedelta(days=30),
        windows=3,
        mode=WindowMode.ROLLING,
    )
    # 2024 is a leap year: Jan 1 + 90 days = Mar 31, + 30 = Apr 30, + 30 = May 30, + 30 = Jun 29.
    assert _ranges(windows) == [
        (d(2024, 1, 1), d(2024, 3, 31), d(2024, 3, 31), d(2024, 4, 30)),
        (d(2024, 1, 31), d(2024, 4, 30), d(2024, 4, 30), d(2024, 5, 30)),
        (d(2024, 3, 1), d(2024, 5, 30), d(2024, 5, 30), d(2024, 6, 29)),
    ]
    assert [w.index for w in windows] == [0, 1, 2]


def test_anchored_windows_keep_the_in_sample_start_and_grow():
    windows = walkforward_windows(
        start=d(2024, 1, 1),
        in_sample=timedelta(days=90),
        out_of_sample=timedelta(days=30),
        windows=3,
        mode=WindowMode.ANCHORED,
    )
    assert _ranges(windows) == [
        (d(2024, 1, 1), d(2024, 3, 31), d(2024, 3, 31), d(2024, 4, 30)),
        (d(2024, 1, 1), d(2024, 4, 30), d(2024, 4, 30), d(2024, 5, 30)),
        (d(2024, 1, 1), d(2024, 5, 30), d(2024, 5, 30), d(2024, 6, 29)),
    ]


@pytest.mark.parametrize(
    ("in_sample", "out_of_sample", "count"),
    [
        (timedelta(0), timedelta(days=1), 2),
        (timedelta(days=1), timedelta(days=-1), 2),
        (timedelta(days=1), timedelta(days=1), 0),
    ],
)
def test_bad_window_settings_are_refused(in_sample, out_of_sample, count):
    with pytest.raises(WalkForwardError):
        walkforward_windows(start=d(2024, 1, 1), in_sample=in_sample, out_of_sample=out_of_sample, windows=count)


def test_stitching_starts_each_segment_at_the_previous_ending_balance():
    segments = [
        Segment(np.array([1, 2, 3]), np.array([100.0, 110.0, 120.0]), np.array([100.0, 105.0, 120.0]), 100.0),
        Segment(np.array([4, 5]), np.array([100.0, 80.0]), np.array([95.0, 80.0]), 100.0),  # shifted by +20
        Segment(np.array([6]), np.array([60.0]), np.array([58.0]), 50.0),  # shifted by 100 - 50 = +50
    ]
    stitched = stitch_curves(segments, 100.0)
    assert stitched.time.tolist() == [1, 2, 3, 4, 5, 6]
    assert stitched.balance.tolist() == [100.0, 110.0, 120.0, 120.0, 100.0, 110.0]
    assert stitched.equity.tolist() == [100.0, 105.0, 120.0, 115.0, 100.0, 108.0]
    assert stitched.ends == [120.0, 100.0, 110.0]


def test_chained_segments_are_concatenated_unchanged():
    a = Segment(np.array([1, 2]), np.array([1000.0, 1010.5]), np.array([990.0, 1010.5]), 1000.0)
    b = Segment(np.array([3, 4]), np.array([1010.5, 1003.25]), np.array([1012.0, 1003.25]), 1010.5)
    stitched = stitch_curves([a, b], 1000.0)
    assert stitched.balance.tolist() == [1000.0, 1010.5, 1010.5, 1003.25]
    assert stitched.ends == [1010.5, 1003.25]


def test_annualised_return_is_simple_over_the_calendar_length():
    # +5 % in a tenth of a year (36.525 days) is 50 % a year, not compounded.
    assert annualised_return(10000.0, 10500.0, timedelta(days=36.525)) == pytest.approx(0.5)
    assert annualised_return(10000.0, 9000.0, timedelta(days=365.25)) == pytest.approx(-0.1)
    assert annualised_return(10000.0, 9000.0, timedelta(0)) is None


def test_efficiency_is_the_ratio_of_mean_returns():
    # mean OOS (0.1 - 0.05 + 0.15) / 3 = 0.2 / 3; mean IS (0.2 + 0.4 + 0.3) / 3 = 0.3; 0.0667 / 0.3 = 2 / 9.
    assert walkforward_efficiency([0.2, 0.4, 0.3], [0.1, -0.05, 0.15]) == pytest.approx(2 / 9)
    assert walkforward_efficiency([0.2, -0.3], [0.1, 0.1]) is None  # mean IS return -0.05
    assert walkforward_efficiency([], []) is None


def test_parameter_stability_is_mean_population_std_and_cv():
    result = parameter_stability([{"FAST": 3, "SL": 1.5}, {"FAST": 5, "SL": 1.5}, {"FAST": 7, "SL": 1.5}])
    # FAST: mean 5, std sqrt((4 + 0 + 4) / 3) = 1.63299, cv = 0.326599.
    assert result["FAST"]["mean"] == 5.0
    assert result["FAST"]["std"] == pytest.approx(math.sqrt(8 / 3))
    assert result["FAST"]["cv"] == pytest.approx(math.sqrt(8 / 3) / 5)
    assert result["SL"] == {"mean": 1.5, "std": 0.0, "cv": 0.0}
    assert parameter_stability([{"X": -1}, {"X": 1}])["X"] == {"mean": 0.0, "std": 1.0, "cv": None}


START = datetime.fromtimestamp(T0, tz=UTC) + timedelta(hours=1)
SPACE = {"FAST_PERIOD": [3, 5, 8]}


@pytest.mark.django_db
@pytest.mark.parametrize(("mode", "count"), [(WindowMode.ROLLING, 3), (WindowMode.ANCHORED, 2)])
def test_walkforward_on_stored_bars_optimises_tests_and_stitches_every_window(ma_instance, mode, count):
    wf = walkforward_create(
        instance=ma_instance,
        start=START,
        in_sample=timedelta(hours=8),
        out_of_sample=timedelta(hours=4),
        windows=count,
        mode=mode,
        space=SPACE,
    )

    wf = walkforward_execute(walk_forward_id=wf.pk)

    rows = list(wf.window_rows.order_by("index"))
    assert wf.status == RunStatus.DONE and wf.windows_done == count and len(rows) == count
    for k, row in enumerate(rows):
        assert row.status == RunStatus.DONE
        assert row.in_sample_start == (START if mode == WindowMode.ANCHORED else START + k * timedelta(hours=4))
        assert row.out_of_sample_start == row.in_sample_end == START + timedelta(hours=8 + 4 * k)
        opt = row.optimization
        assert opt.status == RunStatus.DONE and opt.passes_done == 3
        assert (opt.start, opt.end) == (row.in_sample_start, row.in_sample_end - SECOND)
        best = optimization_passes_sorted(optimization=opt, key="net_profit")[0]
        assert row.parameters == best.parameters and row.in_sample_statistics == best.statistics
        assert row.out_of_sample_statistics["total_trades"] > 0
    # Each OOS part starts from the previous part's ending balance.
    assert rows[0].start_balance == wf.initial_balance
    assert [r.start_balance for r in rows[1:]] == [r.end_balance for r in rows[:-1]]
    assert wf.statistics["final_balance"] == pytest.approx(float(rows[-1].end_balance), abs=0.01)
    assert wf.statistics["total_trades"] == sum(r.out_of_sample_statistics["total_trades"] for r in rows)
    times = wf.curve["time"]
    assert times == sorted(times) and times[0] >= rows[0].out_of_sample_start.timestamp()
    assert times[-1] <= rows[-1].out_of_sample_end.timestamp()  # curve times are bar closes
    assert wf.efficiency == walkforward_efficiency(
        [r.in_sample_return for r in rows], [r.out_of_sample_return for r in rows]
    )
    assert wf.parameter_stability == parameter_stability([r.parameters for r in rows])
    # The first OOS test equals a plain backtest of the chosen parameters over the same range.
    run = backtest_run_create(
        instance=ma_instance,
        start=rows[0].out_of_sample_start,
        end=rows[0].out_of_sample_end - SECOND,
        engine="fast",
        parameters=rows[0].parameters,
    )
    run = backtest_run_execute(run_id=run.pk)
    assert run.statistics["net_profit"] == rows[0].out_of_sample_statistics["net_profit"]


@pytest.mark.django_db
def test_walkforward_without_bars_in_a_window_fails_and_says_which(ma_instance):
    wf = walkforward_create(
        instance=ma_instance,
        start=START + timedelta(days=30),
        in_sample=timedelta(hours=8),
        out_of_sample=timedelta(hours=4),
        windows=2,
        space=SPACE,
    )
    with pytest.raises(WalkForwardError):
        walkforward_execute(walk_forward_id=wf.pk)
    wf.refresh_from_db()
    assert wf.status == RunStatus.FAILED and "window 0" in wf.error
    assert wf.window_rows.get(index=0).status == RunStatus.FAILED


@pytest.mark.django_db
def test_api_creates_queues_and_returns_the_owner_s_walkforward(
    alice, bob, ma_instance, django_capture_on_commit_callbacks
):
    client = APIClient()
    client.force_authenticate(alice)
    body = {
        "instance": ma_instance.pk,
        "start": START.isoformat(),
        "in_sample": "08:00:00",
        "out_of_sample": "04:00:00",
        "windows": 2,
        "mode": "anchored",
        "space": SPACE,
        "select_by": "profit_factor",
    }
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    wf = WalkForward.objects.get(pk=response.json()["id"])
    assert len(queued) == 1 and wf.task_id and wf.select_by == "profit_factor" and wf.mode == "anchored"

    # What the queued callbacks send: the start task, one task per pass of every window, then the stitch.
    assert walkforward_task.apply(args=[wf.pk]).get()["passes_queued"] == 2 * len(SPACE["FAST_PERIOD"])
    passes = OptimizationPass.objects.filter(optimization__walk_forward_windows__walk_forward=wf)
    assert [walkforward_pass_task.apply(args=[p.pk]).get()["last"] for p in passes.order_by("pk")] == [False] * 5 + [
        True
    ]
    walkforward_stitch_task.apply(args=[wf.pk])

    detail = client.get(f"{URL}{wf.pk}/").json()
    assert detail["status"] == "done" and len(detail["window_rows"]) == 2
    assert detail["window_rows"][1]["in_sample_start"] == detail["window_rows"][0]["in_sample_start"]
    assert [w["id"] for w in client.get(URL).json()["results"]] == [wf.pk]
    report = client.get(f"{URL}{wf.pk}/report.html")
    assert report.status_code == 200 and b"<polyline" in report.content and b"Parameter stability" in report.content
    assert client.post(URL, {**body, "space": {"NOPE": [1]}}, format="json").status_code == 400
    client.force_authenticate(bob)
    assert client.get(f"{URL}{wf.pk}/").status_code == 404
    assert client.post(URL, body, format="json").status_code == 400  # not bob's instance


@pytest.mark.django_db
def test_walkforward_command_runs_and_prints_the_windows(ma_instance, capsys):
    call_command(
        "walkforward",
        str(ma_instance.pk),
        "--start",
        START.isoformat(),
        "--in-sample",
        "8h",
        "--out-of-sample",
        "4h",
        "--windows",
        "2",
        "--space",
        '{"FAST_PERIOD": [3, 5]}',
    )
    out = capsys.readouterr().out
    wf = WalkForward.objects.get()
    assert wf.status == RunStatus.DONE and f"walk-forward {wf.pk}" in out and "efficiency" in out


@pytest.mark.django_db
def test_admin_lists_and_shows_a_walkforward_with_its_windows(django_user_model, ma_instance, client):
    wf = walkforward_create(
        instance=ma_instance,
        start=START,
        in_sample=timedelta(hours=8),
        out_of_sample=timedelta(hours=4),
        windows=2,
        space=SPACE,
    )
    client.force_login(django_user_model.objects.create_superuser("root", password="root-pass-123"))

    listing = client.get("/admin/backtests/walkforward/")
    page = client.get(f"/admin/backtests/walkforward/{wf.pk}/change/")

    assert listing.status_code == 200 and f"/api/v1/backtests/walkforwards/{wf.pk}/report.html" in listing.text
    assert page.status_code == 200 and "Walk forward windows" in page.text
