from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.api.lists import PAGE_PARAMETERS, paginated_response, paginated_schema
from apps.common.exceptions import ValidationFailed
from apps.executions.api.idempotency import (
    IDEMPOTENCY_KEY_PARAMETER,
    idempotency_key,
    started_response,
)
from apps.executions.api.serializers import ExecuteRequestSerializer, GraphExecutionSerializer
from apps.graphs.api.serializers import GraphSerializer
from apps.graphs.compile import graph_spec_from_version
from apps.store import avatars, selectors, services
from apps.store.api import serializers as s
from apps.store.models import StoreListingVersion
from apps.users.models import APIKey
from apps.users.permissions import ApiKeyPermission
from apps.users.requests import AuthenticatedRequest

READ_STORE = APIKey.Permission.READ_STORE
LIBRARY = {
    "GET": READ_STORE,
    "POST": APIKey.Permission.WRITE_LIBRARY,
    "PATCH": APIKey.Permission.WRITE_LIBRARY,
    "DELETE": APIKey.Permission.WRITE_LIBRARY,
}
TRUE = ("1", "true", "yes")
SEARCH = OpenApiParameter("search", str, description="words to look for")
STATUS = OpenApiParameter("status", str, enum=StoreListingVersion.Status.values)


def _flag(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    if raw.lower() not in (*TRUE, "0", "false", "no"):
        raise ValidationFailed(f"{name} must be true or false.", details={"fields": {name: raw}})
    return raw.lower() in TRUE


def _valid(serializer_class: type, request: Request, **kwargs) -> dict:
    data = serializer_class(data=request.data, **kwargs)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


class PublicStoreApi(APIView):
    """Anyone may browse the store; an API key needs READ_STORE."""

    permission_classes = [AllowAny, ApiKeyPermission]
    api_key_permission = READ_STORE


class StoreAgentListApi(PublicStoreApi):
    @extend_schema(
        responses=paginated_schema(s.StoreAgentSerializer),
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter("featured", bool),
            OpenApiParameter("creator", str, description="a creator's username"),
            OpenApiParameter("category", str),
            SEARCH,
            OpenApiParameter("sort", str, enum=selectors.AGENT_SORTS),
        ],
        tags=["store"],
        operation_id="store_agents_list",
        summary="Listed agents (default order: relevance when searching, else runs)",
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        agents = selectors.store_agent_list(
            user=request.user if request.user.is_authenticated else None,
            featured=bool(_flag(request, "featured")),
            creator=params.get("creator") or None,
            category=params.get("category") or None,
            search=params.get("search") or None,
            sort=params.get("sort") or None,
        )
        return paginated_response(request, agents, s.StoreAgentSerializer)


class StoreAgentDetailApi(PublicStoreApi):
    @extend_schema(responses=s.StoreAgentDetailSerializer, tags=["store"], auth=[])
    def get(self, request: Request, username: str, slug: str) -> Response:
        user = request.user if request.user.is_authenticated else None
        detail = selectors.store_agent_detail(user=user, username=username, slug=slug)
        return Response(s.StoreAgentDetailSerializer(detail).data)


class StoreAgentReviewApi(APIView):
    @extend_schema(
        request=s.ReviewInSerializer,
        responses={201: s.StoreReviewSerializer, 200: s.StoreReviewSerializer},
        tags=["store"],
        summary="Review an agent (score 1 to 5); a second review of a version replaces the first",
    )
    def post(self, request: AuthenticatedRequest, username: str, slug: str) -> Response:
        review, created = services.review_submit(
            user=request.user, username=username, slug=slug, **_valid(s.ReviewInSerializer, request)
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(s.StoreReviewSerializer(review).data, status=code)


class CreatorListApi(PublicStoreApi):
    @extend_schema(
        responses=paginated_schema(s.CreatorSerializer),
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter("featured", bool),
            SEARCH,
            OpenApiParameter("sort", str, enum=selectors.CREATOR_SORTS),
        ],
        tags=["store"],
        operation_id="store_creators_list",
    )
    def get(self, request: Request) -> Response:
        creators = selectors.creator_list(
            user=request.user if request.user.is_authenticated else None,
            featured=bool(_flag(request, "featured")),
            search=request.query_params.get("search") or None,
            sort=request.query_params.get("sort") or None,
        )
        return paginated_response(request, creators, s.CreatorSerializer)


class CreatorDetailApi(PublicStoreApi):
    @extend_schema(responses=s.CreatorDetailSerializer, tags=["store"], auth=[])
    def get(self, request: Request, username: str) -> Response:
        user = request.user if request.user.is_authenticated else None
        creator = selectors.creator_get(user=user, username=username)
        agents = selectors.store_agent_list(user=user, creator=creator.username)
        return Response(s.CreatorDetailSerializer({"creator": creator, "agents": agents}).data)


class ProfileApi(APIView):
    api_key_permission = {"GET": READ_STORE}

    @extend_schema(responses=s.ProfileSerializer, tags=["store"])
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(s.ProfileSerializer(selectors.profile_get(user=request.user)).data)

    @extend_schema(
        request=s.ProfileInSerializer,
        responses=s.ProfileSerializer,
        tags=["store"],
        summary="Create or change your creator profile",
    )
    def put(self, request: AuthenticatedRequest) -> Response:
        profile = services.profile_update(
            user=request.user, **_valid(s.ProfileInSerializer, request)
        )
        return Response(s.ProfileSerializer(profile).data)


class ProfileAvatarApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": s.AvatarUploadSerializer},
        responses=s.ProfileSerializer,
        tags=["store"],
        summary="Upload your creator avatar (PNG, JPEG, GIF or WebP; made a 256 px PNG)",
    )
    def put(self, request: AuthenticatedRequest) -> Response:
        upload = _valid(s.AvatarUploadSerializer, request)["avatar"]
        profile = avatars.profile_avatar_set(user=request.user, upload=upload)
        return Response(s.ProfileSerializer(profile).data)


class CreatorAvatarApi(PublicStoreApi):
    @extend_schema(responses={(200, "image/png"): OpenApiTypes.BINARY}, tags=["store"], auth=[])
    def get(self, request: Request, username: str) -> HttpResponse:
        avatar = avatars.profile_avatar_get(username=username)
        response = HttpResponse(bytes(avatar.png), content_type="image/png")
        response["Cache-Control"] = "public, max-age=86400"
        response["ETag"] = f'"{avatar.sha256}"'
        response["X-Content-Type-Options"] = "nosniff"
        return response


class SubmissionListApi(APIView):
    api_key_permission = {"GET": READ_STORE}

    @extend_schema(
        responses=paginated_schema(s.SubmissionSerializer),
        parameters=[*PAGE_PARAMETERS, STATUS],
        tags=["store"],
        operation_id="store_submissions_list",
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        versions = selectors.submission_list(
            user=request.user, status=request.query_params.get("status") or None
        )
        return paginated_response(request, versions, s.SubmissionSerializer)

    @extend_schema(
        request=s.SubmissionInSerializer,
        responses={201: s.SubmissionSerializer},
        tags=["store"],
        summary="Submit a version of one of your graphs to the store",
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        version = services.submission_create(
            user=request.user, **_valid(s.SubmissionInSerializer, request)
        )
        return Response(s.SubmissionSerializer(version).data, status=status.HTTP_201_CREATED)


class SubmissionDetailApi(APIView):
    @extend_schema(
        request=s.SubmissionUpdateSerializer,
        responses={200: s.SubmissionSerializer, 201: s.SubmissionSerializer},
        tags=["store"],
        summary="Edit a submission (an approved one: the edit becomes a new pending version)",
    )
    def put(self, request: AuthenticatedRequest, version_id: str) -> Response:
        version = services.submission_update(
            user=request.user,
            version_id=version_id,
            **_valid(s.SubmissionUpdateSerializer, request),
        )
        edited_in_place = str(version.pk) == version_id.lower()
        code = status.HTTP_200_OK if edited_in_place else status.HTTP_201_CREATED
        return Response(s.SubmissionSerializer(version).data, status=code)

    @extend_schema(responses={204: None}, tags=["store"], summary="Delete a draft or pending one")
    def delete(self, request: AuthenticatedRequest, version_id: str) -> Response:
        services.submission_delete(user=request.user, version_id=version_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AdminSubmissionListApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        responses=paginated_schema(s.AdminSubmissionSerializer),
        parameters=[*PAGE_PARAMETERS, STATUS],
        tags=["admin"],
        operation_id="admin_store_submissions_list",
    )
    def get(self, request: Request) -> Response:
        versions = selectors.admin_submission_list(
            status=request.query_params.get("status") or None
        )
        return paginated_response(request, versions, s.AdminSubmissionSerializer)


class AdminSubmissionReviewApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        request=s.ReviewDecisionSerializer,
        responses=s.AdminSubmissionSerializer,
        tags=["admin"],
        summary="Approve or reject a submission",
    )
    def post(self, request: AuthenticatedRequest, version_id: str) -> Response:
        version = services.submission_review(
            reviewer=request.user,
            version_id=version_id,
            **_valid(s.ReviewDecisionSerializer, request),
        )
        return Response(s.AdminSubmissionSerializer(version).data)


class LibraryAgentListApi(APIView):
    api_key_permission = LIBRARY

    @extend_schema(
        responses=paginated_schema(s.LibraryAgentSerializer),
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter("favorite", bool),
            OpenApiParameter("archived", bool, description="list the archived agents instead"),
            SEARCH,
        ],
        tags=["library"],
        operation_id="library_agents_list",
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        agents = selectors.library_agent_list(
            user=request.user,
            favorite=_flag(request, "favorite"),
            archived=bool(_flag(request, "archived")),
            search=request.query_params.get("search") or None,
        )
        return paginated_response(request, agents, s.LibraryAgentSerializer)

    @extend_schema(
        request=s.LibraryAddSerializer,
        responses={201: s.LibraryAgentSerializer, 200: s.LibraryAgentSerializer},
        tags=["library"],
        summary="Add a store agent (an approved listing version) to your library",
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = _valid(s.LibraryAddSerializer, request)
        agent, created = services.library_agent_add(
            user=request.user, listing_version_id=data["store_listing_version_id"]
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(s.LibraryAgentSerializer(agent).data, status=code)


class LibraryAgentDetailApi(APIView):
    api_key_permission = LIBRARY

    @extend_schema(responses=s.LibraryAgentDetailSerializer, tags=["library"])
    def get(self, request: AuthenticatedRequest, library_agent_id: str) -> Response:
        agent = selectors.library_agent_get(user=request.user, library_agent_id=library_agent_id)
        version = selectors.library_agent_graph_version(user=request.user, agent=agent)
        context = {"spec": graph_spec_from_version(version)}
        return Response(s.LibraryAgentDetailSerializer(agent, context=context).data)

    @extend_schema(
        request=s.LibraryUpdateSerializer, responses=s.LibraryAgentSerializer, tags=["library"]
    )
    def patch(self, request: AuthenticatedRequest, library_agent_id: str) -> Response:
        agent = services.library_agent_update(
            user=request.user,
            library_agent_id=library_agent_id,
            **_valid(s.LibraryUpdateSerializer, request),
        )
        return Response(s.LibraryAgentSerializer(agent).data)

    @extend_schema(responses={204: None}, tags=["library"])
    def delete(self, request: AuthenticatedRequest, library_agent_id: str) -> Response:
        services.library_agent_delete(user=request.user, library_agent_id=library_agent_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LibraryAgentForkApi(APIView):
    api_key_permission = APIKey.Permission.WRITE_GRAPH

    @extend_schema(
        request=None,
        responses={201: GraphSerializer},
        tags=["library"],
        summary="Copy a library agent into a new graph of yours",
    )
    def post(self, request: AuthenticatedRequest, library_agent_id: str) -> Response:
        version = services.library_agent_fork(user=request.user, library_agent_id=library_agent_id)
        body = GraphSerializer(version, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class LibraryAgentExecuteApi(APIView):
    api_key_permission = APIKey.Permission.EXECUTE_GRAPH

    @extend_schema(
        request=ExecuteRequestSerializer,
        responses=GraphExecutionSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        tags=["library"],
        summary="Run a library agent: the run is yours and charged to you",
    )
    def post(self, request: AuthenticatedRequest, library_agent_id: str) -> Response:
        key = idempotency_key(request)
        data = _valid(ExecuteRequestSerializer, request)
        return started_response(
            request,
            key,
            lambda: services.library_agent_run(
                user=request.user, library_agent_id=library_agent_id, **data
            ),
            lambda execution: GraphExecutionSerializer(execution).data,
        )
