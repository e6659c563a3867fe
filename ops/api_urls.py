from __future__ import annotations

from django.urls import path

from ops import api

app_name = "ops-api"

urlpatterns = [
    path("channels/", api.ChannelCollectionRoute.as_view(), name="channels"),
    path("channels/<int:channel_id>/", api.ChannelItemRoute.as_view(), name="channel"),
    path("channels/<int:channel_id>/test/", api.ChannelTestApi.as_view(), name="channel-test"),
    path("notifications/", api.NotificationListApi.as_view(), name="notifications"),
    path("health/", api.HealthApi.as_view(), name="health"),
]
