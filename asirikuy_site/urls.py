"""Top-level URLs: admin, API v1 with its OpenAPI schema, sign-in for every user, and the dashboard."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path, reverse_lazy
from django.views.generic.base import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from ops.metrics.views import metrics_view

# Swagger UI from drf-spectacular-sidecar (SWAGGER_UI_DIST = "SIDECAR"): every file is served from here.
swagger = SpectacularSwaggerSplitView.as_view(url_name="schema")

urlpatterns = [
    path("favicon.ico", RedirectView.as_view(url=static("trading/favicon.svg"), permanent=True)),
    path("admin/", admin.site.urls),
    # Sign-in for traders (any active user), with django-axes lockout; the admin keeps its own for staff.
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="registration/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(
            template_name="registration/password_change.html", success_url=reverse_lazy("password_change_done")
        ),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="registration/password_changed.html"),
        name="password_change_done",
    ),
    path("health/", include("ops.health.urls")),
    path("metrics", metrics_view, name="metrics"),
    path("api/v1/ops/", include("ops.api_urls")),
    path("ops/", include("ops.dashboard_urls")),
    path("api/v1/risk/", include("risk.urls")),
    path("api/v1/backtests/", include("backtests.urls")),
    path("api/v1/", include("trading.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", swagger, name="swagger-ui"),
    path("risk/", include("risk.dashboard_urls")),
    path("backtests/", include("backtests.dashboard_urls")),
    path("", include("trading.dashboard.urls")),
]


def _not_found(request, exception=None):  # noqa: ANN001, ANN202 - Django's handler404 signature
    """404 for a URL that matches no route: the API's JSON error shape under /api/, Django's page elsewhere."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return JsonResponse({"message": "Not found.", "extra": {}}, status=404)
    return page_not_found(request, exception)


handler404 = _not_found
