from __future__ import annotations

from django.urls import path

from backtests import views, views_forms

app_name = "backtests-dashboard"

urlpatterns = [
    path("", views.backtest_list, name="list"),
    path("new/", views_forms.backtest_create, name="create"),
    path("<int:run_id>/", views.backtest_detail, name="detail"),
    path("<int:run_id>/chart/<slug:kind>.json", views.backtest_chart, name="chart"),
    path("<int:run_id>/apply/", views_forms.backtest_run_apply_view, name="apply"),
    path("progress/<slug:kind>/<int:job_id>/", views.job_progress, name="progress"),
    path("optimizations/new/", views_forms.optimization_create_view, name="optimization-create"),
    path("optimizations/<int:optimization_id>/", views.optimization_detail, name="optimization"),
    path(
        "optimizations/<int:optimization_id>/passes/<int:pass_id>/apply/",
        views_forms.optimization_pass_apply_view,
        name="optimization-apply",
    ),
    path("walkforwards/", views.walkforward_list, name="walkforward-list"),
    path("walkforwards/new/", views_forms.walkforward_create_view, name="walkforward-create"),
    path("walkforwards/<int:walk_forward_id>/", views.walkforward_detail, name="walkforward"),
    path("walkforwards/<int:walk_forward_id>/cancel/", views.walkforward_cancel_view, name="walkforward-cancel"),
    path("drift/", views.drift_list, name="drift-list"),
    path("drift/<int:report_id>/", views.drift_detail, name="drift"),
]
