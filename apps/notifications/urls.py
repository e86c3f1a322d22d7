from django.urls import path

from apps.notifications import views

urlpatterns = [
    path("unsubscribe/<str:token>", views.unsubscribe, name="notifications-unsubscribe"),
]
