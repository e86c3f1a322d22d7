from django.urls import path

from apps.webhooks.api import views

urlpatterns = [
    path("webhooks", views.WebhookListApi.as_view(), name="webhook-list"),
    path("webhooks/<str:webhook_id>", views.WebhookDetailApi.as_view(), name="webhook-detail"),
    path(
        "webhooks/<str:webhook_id>/secret", views.WebhookSecretApi.as_view(), name="webhook-secret"
    ),
    path(
        "webhooks/<str:webhook_id>/calls", views.WebhookCallListApi.as_view(), name="webhook-calls"
    ),
    path(
        "webhooks/<str:webhook_id>/ingress",
        views.WebhookIngressApi.as_view(),
        name="webhook-ingress",
    ),
]
