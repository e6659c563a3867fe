from __future__ import annotations

from django.urls import path

from backtests import views

app_name = "backtests-dashboard"

urlpatterns = [
    path("<int:run_id>/", views.backtest_detail, name="detail"),
    path("optimizations/<int:optimization_id>/", views.optimization_detail, name="optimization"),
    path("drift/", views.drift_list, name="drift-list"),
    path("drift/<int:report_id>/", views.drift_detail, name="drift"),
]
