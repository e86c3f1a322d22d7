from django.urls import path

from apps.credits.api import payments, views

urlpatterns = [
    path("credits", views.BalanceApi.as_view(), name="credits"),
    path("user/credits", views.UserCreditsApi.as_view(), name="user-credits"),
    path("credits/transactions", views.TransactionListApi.as_view(), name="credit-transactions"),
    path("credits/top-up", payments.TopUpApi.as_view(), name="credit-top-up"),
    path("credits/stripe/webhook", payments.StripeWebhookApi.as_view(), name="stripe-webhook"),
    path("credits/auto-top-up", payments.AutoTopUpApi.as_view(), name="credit-auto-top-up"),
    path("admin/credits/grant", views.AdminGrantApi.as_view(), name="admin-credit-grant"),
    path(
        "admin/credits/users/<uuid:user_id>/transactions",
        views.AdminUserTransactionsApi.as_view(),
        name="admin-credit-transactions",
    ),
]
