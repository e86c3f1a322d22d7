from datetime import datetime

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.api.lists import PAGE_PARAMETERS, paginated_response, paginated_schema
from apps.common.exceptions import NotFound, ValidationFailed
from apps.credits import selectors, services
from apps.credits.api import serializers as s
from apps.credits.models import CreditTransaction
from apps.users.models import APIKey, User
from apps.users.requests import AuthenticatedRequest


def _moment(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    moment = parse_datetime(raw)
    if moment is None:
        raise ValidationFailed(f"{name} must be an ISO 8601 date and time.")
    return moment


def _type(request: Request) -> str | None:
    wanted = request.query_params.get("type") or None
    if wanted is not None and wanted not in CreditTransaction.Type.values:
        raise ValidationFailed(f"type must be one of {', '.join(CreditTransaction.Type.values)}.")
    return wanted


HISTORY_PARAMETERS = [
    *PAGE_PARAMETERS,
    OpenApiParameter("type", str, enum=CreditTransaction.Type.values),
    OpenApiParameter("since", str, description="ISO 8601; entries from this moment on"),
    OpenApiParameter("until", str, description="ISO 8601; entries before this moment"),
]


class BalanceApi(APIView):
    api_key_permission = APIKey.Permission.READ_CREDITS

    @extend_schema(responses=s.BalanceSerializer, tags=["credits"])
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response({"balance": selectors.credit_balance_get(user_id=request.user.pk)})


class UserCreditsApi(BalanceApi):
    """`GET /api/user/credits` (seed 02 §2.3.4): the same balance under the user's resources."""

    @extend_schema(responses=s.BalanceSerializer, tags=["user"], operation_id="user_credits")
    def get(self, request: AuthenticatedRequest) -> Response:
        return super().get(request)


class TransactionListApi(APIView):
    api_key_permission = APIKey.Permission.READ_CREDITS

    @extend_schema(
        responses=paginated_schema(s.CreditHistoryRowSerializer),
        parameters=HISTORY_PARAMETERS,
        tags=["credits"],
        operation_id="credits_transactions_list",
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        rows = selectors.credit_transaction_list(
            user_id=request.user.pk,
            type=_type(request),
            since=_moment(request, "since"),
            until=_moment(request, "until"),
        )
        return paginated_response(request, rows, s.CreditHistoryRowSerializer)


class AdminGrantApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        request=s.GrantRequestSerializer,
        responses=s.CreditTransactionSerializer,
        tags=["admin"],
        summary="Grant (amount > 0) or adjust (amount < 0) a user's credits",
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = s.GrantRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not User.objects.filter(pk=data.validated_data["user_id"]).exists():
            raise NotFound("User not found.")
        entry = services.credit_grant(
            user_id=data.validated_data["user_id"],
            amount=data.validated_data["amount"],
            reason=data.validated_data["reason"],
            granted_by=request.user,
        )
        return Response(s.CreditTransactionSerializer(entry).data)


class AdminUserTransactionsApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        responses=paginated_schema(s.CreditTransactionSerializer),
        parameters=PAGE_PARAMETERS,
        tags=["admin"],
        operation_id="admin_credits_user_transactions",
    )
    def get(self, request: Request, user_id: str) -> Response:
        entries = selectors.credit_entries(user_id=user_id)
        return paginated_response(request, entries, s.CreditTransactionSerializer)
