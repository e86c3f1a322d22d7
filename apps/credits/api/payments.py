"""Buying credits: Checkout top-ups, Stripe's webhook and auto top-up (apps.credits.payments)."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from apps.credits import payments
from apps.users.models import APIKey
from apps.users.requests import AuthenticatedRequest


class TopUpRequestSerializer(serializers.Serializer[dict[str, Any]]):
    amount = serializers.IntegerField(help_text="Credits to buy (1 credit = US$0.01).")


class TopUpResponseSerializer(serializers.Serializer[dict[str, Any]]):
    checkout_url = serializers.URLField(help_text="Stripe Checkout page to send the user to.")


class StripeWebhookReceivedSerializer(serializers.Serializer[dict[str, Any]]):
    received = serializers.BooleanField()


class AutoTopUpConfigSerializer(serializers.Serializer[payments.AutoTopUpSettings]):
    enabled = serializers.BooleanField()
    threshold = serializers.IntegerField(help_text="Top up when the balance falls below this.")
    amount = serializers.IntegerField(help_text="Credits bought per top-up.")
    has_payment_method = serializers.BooleanField(read_only=True)


class AutoTopUpConfigRequestSerializer(serializers.Serializer[dict[str, Any]]):
    enabled = serializers.BooleanField()
    threshold = serializers.IntegerField()
    amount = serializers.IntegerField()


class TopUpApi(APIView):
    # No api_key_permission: spending money needs a signed-in user, never an API key.

    @extend_schema(
        request=TopUpRequestSerializer, responses=TopUpResponseSerializer, tags=["credits"]
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = TopUpRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        url = payments.top_up_start(user=request.user, amount=data.validated_data["amount"])
        return Response({"checkout_url": url})


class StripeWebhookApi(APIView):
    # Stripe authenticates by signing the raw body; there is no user, session or CSRF token,
    # and a throttle would make Stripe's retries of real payments fail.
    authentication_classes: list[type[BaseAuthentication]] = []
    permission_classes = [AllowAny]
    throttle_classes: list[type[BaseThrottle]] = []

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT},
        responses=StripeWebhookReceivedSerializer,
        auth=[],
        tags=["credits"],
        summary="Stripe webhook (signed with Stripe-Signature)",
    )
    def post(self, request: Request) -> Response:
        payments.webhook_handle(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
        return Response({"received": True})


class AutoTopUpApi(APIView):
    api_key_permission = {
        "GET": APIKey.Permission.READ_CREDITS,
        "HEAD": APIKey.Permission.READ_CREDITS,
    }

    @extend_schema(responses=AutoTopUpConfigSerializer, tags=["credits"])
    def get(self, request: AuthenticatedRequest) -> Response:
        config = payments.auto_top_up_config_get(user=request.user)
        return Response(AutoTopUpConfigSerializer(config).data)

    @extend_schema(
        request=AutoTopUpConfigRequestSerializer,
        responses=AutoTopUpConfigSerializer,
        tags=["credits"],
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = AutoTopUpConfigRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        config = payments.auto_top_up_config_set(user=request.user, **data.validated_data)
        return Response(AutoTopUpConfigSerializer(config).data)
