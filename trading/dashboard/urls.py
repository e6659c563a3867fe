from __future__ import annotations

from django.urls import path

from trading.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.dashboard_index, name="index"),
    path("accounts/<int:account_id>/", views.dashboard_account, name="account"),
    path("coverage/", views.dashboard_coverage, name="coverage"),
]
