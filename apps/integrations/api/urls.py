from django.urls import path

from apps.integrations.api import views

urlpatterns = [
    path("integrations/providers", views.ProviderListApi.as_view(), name="integration-providers"),
    path(
        "integrations/credentials",
        views.CredentialListApi.as_view(),
        name="integration-credential-list",
    ),
    path(
        "integrations/credentials/<uuid:credential_id>",
        views.CredentialDetailApi.as_view(),
        name="integration-credential-detail",
    ),
    path(
        "integrations/oauth2/<slug:provider>/authorize",
        views.OAuthStartApi.as_view(),
        name="integration-oauth2-authorize",
    ),
    path("files/upload", views.FileUploadApi.as_view(), name="file-upload"),
    path("files", views.FileListApi.as_view(), name="file-list"),
    path("files/<uuid:file_id>", views.FileDetailApi.as_view(), name="file-detail"),
]
