from __future__ import annotations

from django.urls import path

from backtests import api, api_drift, api_walkforward

app_name = "backtests-api"

urlpatterns = [
    path("", api.BacktestRunListApi.as_view(), name="run-list"),
    path("<int:run_id>/", api.BacktestRunDetailApi.as_view(), name="run-detail"),
    path("<int:run_id>/trades.csv", api.BacktestTradesCsvApi.as_view(), name="run-trades-csv"),
    path("<int:run_id>/report.html", api.BacktestReportApi.as_view(), name="run-report"),
    path("optimizations/", api.OptimizationListApi.as_view(), name="optimization-list"),
    path("optimizations/<int:optimization_id>/", api.OptimizationDetailApi.as_view(), name="optimization-detail"),
    path(
        "optimizations/<int:optimization_id>/passes/<int:pass_id>/apply/",
        api.OptimizationPassApplyApi.as_view(),
        name="optimization-pass-apply",
    ),
    path("walkforwards/", api_walkforward.WalkForwardListApi.as_view(), name="walkforward-list"),
    path(
        "walkforwards/<int:walk_forward_id>/", api_walkforward.WalkForwardDetailApi.as_view(), name="walkforward-detail"
    ),
    path(
        "walkforwards/<int:walk_forward_id>/report.html",
        api_walkforward.WalkForwardReportApi.as_view(),
        name="walkforward-report",
    ),
    path(
        "walkforwards/<int:walk_forward_id>/cancel/",
        api_walkforward.WalkForwardCancelApi.as_view(),
        name="walkforward-cancel",
    ),
    path("drift/", api_drift.DriftReportListApi.as_view(), name="drift-list"),
    path("drift/<int:report_id>/", api_drift.DriftReportDetailApi.as_view(), name="drift-detail"),
]
