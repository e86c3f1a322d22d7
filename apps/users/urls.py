from django.contrib.auth.views import LogoutView
from django.urls import path

from apps.users import views

urlpatterns = [
    path("login", views.SignInView.as_view(), name="login"),
    path("logout", LogoutView.as_view(), name="logout"),
    path("signup", views.sign_up, name="signup"),
    path("password-reset", views.ResetRequestView.as_view(), name="password-reset"),
    path("password-reset/sent", views.ResetDoneView.as_view(), name="password-reset-done"),
    path(
        "password-reset/<uidb64>/<token>",
        views.ResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "password-reset/complete",
        views.ResetCompleteView.as_view(),
        name="password-reset-complete",
    ),
    path("verify-email/<uidb64>/<token>", views.verify_email, name="verify-email"),
    path("verify-email/resend", views.verify_email_resend, name="verify-email-resend"),
]
