from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.common import views as common_views
from apps.dashboard.views.agents import home
from apps.executions import views as execution_views
from apps.graphs.admin import block_library_view

handler404 = "apps.common.views.not_found"
handler500 = "apps.common.views.server_error"

urlpatterns = [
    path("favicon.ico", common_views.favicon, name="favicon"),
    path("health", common_views.health, name="health"),
    path("health/ready", common_views.health_ready, name="health-ready"),
    path("metrics", execution_views.metrics, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("apps.users.api.urls")),
    path("api/", include("apps.executions.api.urls")),
    path("api/", include("apps.graphs.api.urls")),
    path("api/", include("apps.credits.api.urls")),
    path("api/", include("apps.store.api.urls")),
    path("api/", include("apps.schedules.api.urls")),
    path("api/", include("apps.notifications.api.urls")),
    path("notifications/", include("apps.notifications.urls")),
    path("api/", include("apps.integrations.api.urls")),
    path("api/", include("apps.chat.api.urls")),
    path("api/", include("apps.webhooks.api.urls")),
    path("admin/blocks/", admin.site.admin_view(block_library_view), name="admin-blocks"),
    path("admin/", admin.site.urls),
    path("", home, name="home"),
    path("", include("apps.dashboard.urls")),
    path("", include("apps.users.urls")),
]
