"""Risk API routes, mounted at ``/api/v1/risk/``."""

from __future__ import annotations

from django.urls import path

from risk import api

app_name = "risk-api"

urlpatterns = [
    path("limits/", api.LimitCollectionRoute.as_view(), name="limits"),
    path("limits/<int:limit_id>/", api.LimitItemRoute.as_view(), name="limit"),
    path("limits/<int:limit_id>/reset-peak/", api.LimitResetPeakApi.as_view(), name="limit-reset-peak"),
    path("kill-switches/", api.KillSwitchListApi.as_view(), name="kill-switches"),
    path("kill-switches/engage/", api.KillSwitchEngageApi.as_view(), name="kill-switch-engage"),
    path("kill-switches/release/", api.KillSwitchReleaseApi.as_view(), name="kill-switch-release"),
    path("market-hours/<int:account_id>/", api.MarketHoursApi.as_view(), name="market-hours"),
    path("blocked/", api.BlockedListApi.as_view(), name="blocked"),
    path("audit/", api.AuditListApi.as_view(), name="audit"),
    path("instances/<int:instance_id>/close-all/", api.InstanceCloseAllApi.as_view(), name="instance-close-all"),
    path("instances/<int:instance_id>/pause/", api.InstancePauseApi.as_view(), name="instance-pause"),
    path("instances/<int:instance_id>/resume/", api.InstanceResumeApi.as_view(), name="instance-resume"),
]
