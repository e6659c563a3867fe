"""Top-level URLs: admin, API v1 with its OpenAPI schema, and the dashboard."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from ops.metrics.views import metrics_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", include("ops.health.urls")),
    path("metrics", metrics_view, name="metrics"),
    path("api/v1/ops/", include("ops.api_urls")),
    path("ops/", include("ops.dashboard_urls")),
    path("api/v1/risk/", include("risk.urls")),
    path("api/v1/backtests/", include("backtests.urls")),
    path("api/v1/", include("trading.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("risk/", include("risk.dashboard_urls")),
    path("backtests/", include("backtests.dashboard_urls")),
    path("", include("trading.dashboard.urls")),
]
