from __future__ import annotations

from django.urls import path

from backtests import views

app_name = "backtests-dashboard"

urlpatterns = [
    path("", views.backtest_list, name="list"),
    path("<int:run_id>/", views.backtest_detail, name="detail"),
    path("optimizations/<int:optimization_id>/", views.optimization_detail, name="optimization"),
    path("walkforwards/", views.walkforward_list, name="walkforward-list"),
    path("walkforwards/<int:walk_forward_id>/", views.walkforward_detail, name="walkforward"),
    path("walkforwards/<int:walk_forward_id>/cancel/", views.walkforward_cancel_view, name="walkforward-cancel"),
    path("drift/", views.drift_list, name="drift-list"),
    path("drift/<int:report_id>/", views.drift_detail, name="drift"),
]
