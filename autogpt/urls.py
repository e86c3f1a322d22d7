from importlib import import_module

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.common import views as common_views
from apps.dashboard.views.agents import home
from apps.executions import views as execution_views
from apps.graphs.admin import block_library_view

handler404 = "apps.common.views.not_found"
handler500 = "apps.common.views.server_error"

# Every app's API under one resolver: with one `include` per app, each app before the one that
# matches raised Resolver404 and Django gathered what it tried, on every request (measured:
# URL resolution was 6.6% of the web's CPU on GET /api/credits, the fourth app).
_API_URLS = [
    "apps.users.api.urls",
    "apps.executions.api.urls",
    "apps.graphs.api.urls",
    "apps.credits.api.urls",
    "apps.store.api.urls",
    "apps.schedules.api.urls",
    "apps.notifications.api.urls",
    "apps.integrations.api.urls",
    "apps.chat.api.urls",
    "apps.webhooks.api.urls",
]
_api_patterns = [pattern for name in _API_URLS for pattern in import_module(name).urlpatterns]

urlpatterns = [
    path("favicon.ico", common_views.favicon, name="favicon"),
    path("health", common_views.health, name="health"),
    path("health/ready", common_views.health_ready, name="health-ready"),
    path("metrics", execution_views.metrics, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include(_api_patterns)),
    path("notifications/", include("apps.notifications.urls")),
    path("admin/blocks/", admin.site.admin_view(block_library_view), name="admin-blocks"),
    path("admin/", admin.site.urls),
    path("", home, name="home"),
    path("", include("apps.dashboard.urls")),
    path("", include("apps.users.urls")),
]
