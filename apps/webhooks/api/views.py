from collections.abc import Mapping
from typing import IO, Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.authentication import BaseAuthentication
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from apps.common.api.lists import PAGE_PARAMETERS, paginated_response, paginated_schema
from apps.common.numbers import parse_int
from apps.users.models import APIKey
from apps.users.requests import AuthenticatedRequest
from apps.webhooks import selectors, services
from apps.webhooks.api import serializers as s

READ_WRITE = {
    "GET": APIKey.Permission.READ_GRAPH,
    "POST": APIKey.Permission.WRITE_GRAPH,
    "PATCH": APIKey.Permission.WRITE_GRAPH,
}


class WebhookListApi(APIView):
    api_key_permission = READ_WRITE

    @extend_schema(
        responses=paginated_schema(s.WebhookSerializer),
        parameters=PAGE_PARAMETERS,
        tags=["webhooks"],
        operation_id="webhooks_list",
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        return paginated_response(
            request, selectors.webhook_list(user=request.user), s.WebhookSerializer
        )

    @extend_schema(
        request=s.WebhookCreateSerializer,
        responses={201: s.WebhookWithSecretSerializer},
        tags=["webhooks"],
        summary="Set a preset up as a trigger (the secret is shown once)",
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = s.WebhookCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pair = services.webhook_create_for_preset(
            user=request.user, preset_id=data.validated_data["preset_id"]
        )
        return Response(s.WebhookWithSecretSerializer(pair).data, status=status.HTTP_201_CREATED)


class WebhookDetailApi(APIView):
    api_key_permission = READ_WRITE

    @extend_schema(responses=s.WebhookSerializer, tags=["webhooks"])
    def get(self, request: AuthenticatedRequest, webhook_id: str) -> Response:
        webhook = selectors.webhook_get(user=request.user, webhook_id=webhook_id)
        return Response(s.WebhookSerializer(webhook).data)

    @extend_schema(
        request=s.WebhookUpdateSerializer,
        responses=s.WebhookSerializer,
        tags=["webhooks"],
        summary="Switch a trigger on or off",
    )
    def patch(self, request: AuthenticatedRequest, webhook_id: str) -> Response:
        data = s.WebhookUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        webhook = services.webhook_set_enabled(
            user=request.user, webhook_id=webhook_id, enabled=data.validated_data["enabled"]
        )
        return Response(s.WebhookSerializer(webhook).data)


class WebhookSecretApi(APIView):
    api_key_permission = READ_WRITE

    @extend_schema(
        request=None,
        responses=s.WebhookWithSecretSerializer,
        tags=["webhooks"],
        summary="Rotate the secret (the new one is shown once)",
    )
    def post(self, request: AuthenticatedRequest, webhook_id: str) -> Response:
        pair = services.webhook_secret_rotate(user=request.user, webhook_id=webhook_id)
        return Response(s.WebhookWithSecretSerializer(pair).data)


class WebhookCallListApi(APIView):
    api_key_permission = READ_WRITE

    @extend_schema(
        responses=paginated_schema(s.WebhookCallSerializer),
        parameters=PAGE_PARAMETERS,
        tags=["webhooks"],
        summary="Recent calls and the runs they started",
    )
    def get(self, request: AuthenticatedRequest, webhook_id: str) -> Response:
        calls = selectors.webhook_call_list(user=request.user, webhook_id=webhook_id)
        return paginated_response(request, calls, s.WebhookCallSerializer)


class _RawBodyParser(BaseParser):
    """Accepts any media type: the ingress reads `request.body` itself, after the checks."""

    media_type = "*/*"

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        return {}  # never called: the view does not read request.data


class WebhookIngressApi(APIView):
    # Authenticity is the HMAC signature; there is no user, session or CSRF token. Throttles
    # would fail senders' bursts: the per-graph run cap and credits bound the work instead.
    authentication_classes: list[type[BaseAuthentication]] = []
    permission_classes = [AllowAny]
    throttle_classes: list[type[BaseThrottle]] = []
    parser_classes = [_RawBodyParser]

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT},
        responses={202: s.WebhookIngressAcceptedSerializer},
        parameters=[
            OpenApiParameter(
                services.SIGNATURE_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="sha256=<hex HMAC-SHA256 of '<timestamp>.' + raw body>",
            ),
            OpenApiParameter(
                services.TIMESTAMP_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="unix seconds; must be within the tolerance window",
            ),
        ],
        auth=[],
        tags=["webhooks"],
        summary="Start a run (signed call; no session)",
    )
    def post(self, request: Request, webhook_id: str) -> Response:
        # Refuse an oversized body before reading it (the length is checked again after).
        services.webhook_check_size(parse_int(request.META.get("CONTENT_LENGTH")) or 0)
        call = services.IncomingCall(
            body=request.body,
            content_type=request.content_type or "",
            headers=request.headers,
            query=dict(request.query_params.lists()),
        )
        execution = services.webhook_ingress(webhook_id=webhook_id, call=call)
        return Response(
            {"execution_id": str(execution.id), "status": execution.status},
            status=status.HTTP_202_ACCEPTED,
        )
