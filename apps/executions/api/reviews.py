"""`GET /api/reviews` and `POST /api/reviews/{id}` (SPEC §15): the user's human reviews."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.api.lists import PAGE_PARAMETERS, paginated_response, paginated_schema
from apps.common.exceptions import ValidationFailed
from apps.executions import reviews
from apps.executions.models import Review
from apps.users.models import APIKey
from apps.users.requests import AuthenticatedRequest


class HumanReviewSerializer(serializers.ModelSerializer):
    graph_id = serializers.UUIDField(source="graph_execution.graph_id", read_only=True)
    graph_exec_id = serializers.UUIDField(source="graph_execution_id", read_only=True)
    # A declared field named like Serializer.data: the stubs see the property, DRF the field.
    data = serializers.JSONField(allow_null=True)  # type: ignore[assignment]
    decided_data = serializers.JSONField(allow_null=True)
    data_schema = serializers.JSONField(allow_null=True)

    class Meta:
        model = Review
        fields = [
            "id",
            "graph_id",
            "graph_exec_id",
            "node_id",
            "node_exec_id",
            "status",
            "message",
            "data",
            "editable",
            "data_schema",
            "expires_at",
            "decided_data",
            "decision_message",
            "decided_at",
            "created_at",
        ]


class HumanReviewDecisionSerializer(serializers.Serializer):
    approved = serializers.BooleanField()
    data = serializers.JSONField(required=False, allow_null=True)  # type: ignore[assignment]
    message = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


STATUS_PARAMETER = OpenApiParameter(
    "status", str, enum=Review.Status.values, description="filter (e.g. waiting)"
)


class ReviewListApi(APIView):
    api_key_permission = APIKey.Permission.READ_GRAPH

    @extend_schema(
        responses=paginated_schema(HumanReviewSerializer),
        parameters=[*PAGE_PARAMETERS, STATUS_PARAMETER],
        tags=["reviews"],
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        wanted = request.query_params.get("status") or None
        if wanted is not None and wanted not in Review.Status.values:
            raise ValidationFailed(
                f"status must be one of {', '.join(Review.Status.values)}.",
                details={"fields": {"status": wanted}},
            )
        found = reviews.review_list(user=request.user, status=wanted).select_related(
            "graph_execution"
        )
        return paginated_response(request, found, HumanReviewSerializer)


class ReviewDecideApi(APIView):
    api_key_permission = APIKey.Permission.EXECUTE_GRAPH

    @extend_schema(
        request=HumanReviewDecisionSerializer,
        responses=HumanReviewSerializer,
        tags=["reviews"],
        summary="Approve (optionally with edited data) or reject; the run resumes",
    )
    def post(self, request: AuthenticatedRequest, review_id: str) -> Response:
        body = HumanReviewDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        extra = {"data": body.validated_data["data"]} if "data" in body.validated_data else {}
        review = reviews.review_decide(
            user=request.user,
            review_id=review_id,
            approved=body.validated_data["approved"],
            message=body.validated_data["message"],
            **extra,
        )
        return Response(HumanReviewSerializer(review).data)
