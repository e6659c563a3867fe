from __future__ import annotations

from django.urls import path

from ops import dashboard

app_name = "ops"

urlpatterns = [
    path("", dashboard.ops_index, name="index"),
    path("channels/new/", dashboard.ops_channel_edit, name="channel-new"),
    path("channels/<int:channel_id>/", dashboard.ops_channel_edit, name="channel-edit"),
    path("channels/<int:channel_id>/delete/", dashboard.ops_channel_delete, name="channel-delete"),
    path("channels/<int:channel_id>/test/", dashboard.ops_channel_test, name="channel-test"),
]
