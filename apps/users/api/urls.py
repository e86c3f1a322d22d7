from django.urls import path

from apps.users.api import views

urlpatterns = [
    path("auth/register", views.RegisterApi.as_view(), name="auth-register"),
    path("auth/token", views.TokenObtainApi.as_view(), name="auth-token"),
    path("auth/token/refresh", views.TokenRefreshApi.as_view(), name="auth-token-refresh"),
    path("user", views.UserApi.as_view(), name="user"),
    path("user/api-keys", views.ApiKeyListApi.as_view(), name="api-key-list"),
    path("user/api-keys/<uuid:key_id>", views.ApiKeyDetailApi.as_view(), name="api-key-detail"),
    path(
        "user/api-keys/<uuid:key_id>/suspend",
        views.ApiKeySuspendApi.as_view(),
        name="api-key-suspend",
    ),
    path(
        "user/api-keys/<uuid:key_id>/activate",
        views.ApiKeyActivateApi.as_view(),
        name="api-key-activate",
    ),
    path(
        "user/api-keys/<uuid:key_id>/permissions",
        views.ApiKeyPermissionsApi.as_view(),
        name="api-key-permissions",
    ),
]
