"""Dashboard routes of the risk page, mounted at ``/risk/``."""

from __future__ import annotations

from django.urls import path

from risk import views

app_name = "risk-dashboard"

urlpatterns = [
    path("", views.risk_index, name="index"),
    path("kill-switch/", views.risk_kill_switch, name="kill-switch"),
    path("instances/<int:instance_id>/", views.risk_instance_action, name="instance-action"),
    path("trades/<int:trade_id>/close/", views.risk_trade_close, name="trade-close"),
]
