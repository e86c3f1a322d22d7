from django.contrib.auth.views import LogoutView
from django.urls import path

from apps.users import views

urlpatterns = [
    path("login", views.SignInView.as_view(), name="login"),
    path("logout", LogoutView.as_view(), name="logout"),
    path("signup", views.sign_up, name="signup"),
]
