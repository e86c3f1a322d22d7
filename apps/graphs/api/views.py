from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.api.lists import PAGE_PARAMETERS, paginated_response, paginated_schema
from apps.common.exceptions import NotFound, PermissionDenied, ValidationFailed
from apps.common.numbers import parse_int
from apps.graphs import analysis, selectors, services, validation
from apps.graphs.api import serializers as s
from apps.graphs.blocks.registry import get_block
from apps.graphs.compile import graph_spec_from_payload, graph_spec_from_version
from apps.graphs.models import GraphVersion
from apps.graphs.shapes import GraphInSerializer
from apps.users.models import APIKey
from apps.users.requests import AuthenticatedRequest

READ_WRITE_GRAPH = {
    "GET": APIKey.Permission.READ_GRAPH,
    "POST": APIKey.Permission.WRITE_GRAPH,
    "PUT": APIKey.Permission.WRITE_GRAPH,
    "PATCH": APIKey.Permission.WRITE_GRAPH,
    "DELETE": APIKey.Permission.WRITE_GRAPH,
}
VERSION_PARAMETER = OpenApiParameter(
    "version", str, description='A version number or "latest"; default: the active version'
)


def _version_param(request: AuthenticatedRequest) -> int | str | None:
    raw = request.query_params.get("version")
    if raw in (None, ""):
        return None
    if raw == selectors.LATEST:
        return raw
    version = parse_int(raw)
    if version is None or version < 1:
        raise ValidationFailed('version must be a positive integer or "latest".')
    return version


def _requested_version(request: AuthenticatedRequest, graph_id: str) -> GraphVersion:
    """The version named by `?version=`, else the active one."""
    return selectors.graph_version_get(
        user=request.user, graph_id=graph_id, version=_version_param(request)
    )


def _graph_in(request: AuthenticatedRequest) -> dict:
    data = GraphInSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    payload = dict(data.validated_data)
    if payload.get("is_template") and not request.user.is_staff:
        raise PermissionDenied("Only staff can publish templates.")
    payload["spec"] = graph_spec_from_payload(payload.pop("nodes"), payload.pop("links"))
    return payload


def _graph_body(request: AuthenticatedRequest, version) -> dict:
    return s.GraphSerializer(version, context={"request": request}).data


class GraphListApi(APIView):
    """`GET/POST /api/graphs`: the list carries each graph's run count, last run and success
    rate."""

    api_key_permission = READ_WRITE_GRAPH

    @extend_schema(
        responses=paginated_schema(s.GraphWithStatsSerializer),
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter("templates", bool, description="List the templates instead"),
        ],
        tags=["graphs"],
        operation_id="graphs_list",
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        templates = request.query_params.get("templates") in ("1", "true", "yes")
        versions = selectors.graph_list_with_stats(user=request.user, templates=templates)
        return paginated_response(request, versions, s.GraphWithStatsSerializer)

    @extend_schema(request=GraphInSerializer, responses={201: s.GraphSerializer}, tags=["graphs"])
    def post(self, request: AuthenticatedRequest) -> Response:
        version = services.graph_create(user=request.user, **_graph_in(request))
        return Response(_graph_body(request, version), status=status.HTTP_201_CREATED)


class GraphDetailApi(APIView):
    api_key_permission = READ_WRITE_GRAPH

    @extend_schema(responses=s.GraphSerializer, parameters=[VERSION_PARAMETER], tags=["graphs"])
    def get(self, request: AuthenticatedRequest, graph_id: str) -> Response:
        version = _requested_version(request, graph_id)
        return Response(_graph_body(request, version))

    @extend_schema(
        request=GraphInSerializer,
        responses=s.GraphSerializer,
        tags=["graphs"],
        summary="Save a new version (max+1) and make it active",
    )
    def put(self, request: AuthenticatedRequest, graph_id: str) -> Response:
        payload = _graph_in(request)
        payload.pop("is_template")
        version = services.graph_update(user=request.user, graph_id=graph_id, **payload)
        return Response(_graph_body(request, version))

    @extend_schema(responses={204: None}, tags=["graphs"], summary="Delete every version")
    def delete(self, request: AuthenticatedRequest, graph_id: str) -> Response:
        services.graph_delete(user=request.user, graph_id=graph_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GraphVersionListApi(APIView):
    api_key_permission = READ_WRITE_GRAPH

    @extend_schema(
        responses=paginated_schema(s.GraphMetaSerializer),
        parameters=PAGE_PARAMETERS,
        tags=["graphs"],
        operation_id="graphs_versions_list",
    )
    def get(self, request: AuthenticatedRequest, graph_id: str) -> Response:
        versions = selectors.graph_version_list(user=request.user, graph_id=graph_id)
        return paginated_response(request, versions, s.GraphMetaSerializer)


class GraphVersionDetailApi(APIView):
    api_key_permission = READ_WRITE_GRAPH

    @extend_schema(responses=s.GraphSerializer, tags=["graphs"])
    def get(self, request: AuthenticatedRequest, graph_id: str, version: int) -> Response:
        found = selectors.graph_version_get(user=request.user, graph_id=graph_id, version=version)
        return Response(_graph_body(request, found))


class GraphActiveVersionApi(APIView):
    api_key_permission = READ_WRITE_GRAPH

    @extend_schema(
        request=s.ActiveVersionSerializer, responses=s.GraphMetaSerializer, tags=["graphs"]
    )
    def put(self, request: AuthenticatedRequest, graph_id: str) -> Response:
        data = s.ActiveVersionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.graph_set_active_version(
            user=request.user,
            graph_id=graph_id,
            version=data.validated_data["active_graph_version"],
        )
        return Response(s.GraphMetaSerializer(version).data)


class GraphExportApi(APIView):
    api_key_permission = READ_WRITE_GRAPH

    @extend_schema(
        responses=s.GraphExportSerializer, parameters=[VERSION_PARAMETER], tags=["graphs"]
    )
    def get(self, request: AuthenticatedRequest, graph_id: str) -> Response:
        version = _requested_version(request, graph_id)
        return Response(services.graph_export(version=version))


class GraphImportApi(APIView):
    api_key_permission = READ_WRITE_GRAPH

    @extend_schema(
        request=GraphInSerializer,
        responses={201: s.GraphSerializer},
        tags=["graphs"],
        summary="Create a graph from an exported document (node ids are rewritten)",
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        payload = _graph_in(request)
        payload.pop("is_template")
        version = services.graph_import(user=request.user, **payload)
        return Response(_graph_body(request, version), status=status.HTTP_201_CREATED)


class GraphForkApi(APIView):
    api_key_permission = READ_WRITE_GRAPH

    @extend_schema(
        request=None,
        responses={201: s.GraphSerializer},
        parameters=[VERSION_PARAMETER],
        tags=["graphs"],
        summary="Copy a graph you can see (yours or a template) into a new graph of yours",
    )
    def post(self, request: AuthenticatedRequest, graph_id: str) -> Response:
        version = services.graph_fork(
            user=request.user, graph_id=graph_id, version=_version_param(request)
        )
        return Response(_graph_body(request, version), status=status.HTTP_201_CREATED)


class GraphAnalysisApi(APIView):
    api_key_permission = READ_WRITE_GRAPH

    @extend_schema(
        responses=s.GraphAnalysisSerializer, parameters=[VERSION_PARAMETER], tags=["graphs"]
    )
    def get(self, request: AuthenticatedRequest, graph_id: str) -> Response:
        version = _requested_version(request, graph_id)
        return Response(analysis.graph_analysis(graph_spec_from_version(version)))


class GraphRunCheckApi(APIView):
    api_key_permission = READ_WRITE_GRAPH

    @extend_schema(
        responses=s.GraphRunCheckSerializer,
        parameters=[VERSION_PARAMETER],
        tags=["graphs"],
        summary="What stops a version from running (SPEC §5), run inputs aside",
    )
    def get(self, request: AuthenticatedRequest, graph_id: str) -> Response:
        version = _requested_version(request, graph_id)
        spec = graph_spec_from_version(version)
        errors = validation.graph_errors_for_run(spec, {}, require_run_inputs=False)
        return Response({"node_errors": errors})


class GraphCostEstimateApi(APIView):
    api_key_permission = READ_WRITE_GRAPH

    @extend_schema(
        responses=s.GraphCostEstimateSerializer, parameters=[VERSION_PARAMETER], tags=["graphs"]
    )
    def get(self, request: AuthenticatedRequest, graph_id: str) -> Response:
        version = _requested_version(request, graph_id)
        return Response(analysis.graph_cost_estimate(graph_spec_from_version(version)))


class BlockListApi(APIView):
    api_key_permission = APIKey.Permission.READ_BLOCK

    @extend_schema(
        responses=paginated_schema(s.BlockSerializer),
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter("category", str, description="e.g. TEXT, LOGIC, AI"),
            OpenApiParameter("search", str, description="words in the name or description"),
            OpenApiParameter(
                "provider", str, description="only blocks using this provider's credentials"
            ),
        ],
        tags=["blocks"],
        operation_id="blocks_list",
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        blocks = selectors.block_list(
            category=request.query_params.get("category", ""),
            provider=request.query_params.get("provider", ""),
            search=request.query_params.get("search", ""),
        )
        return paginated_response(request, blocks, s.BlockSerializer)


class BlockDetailApi(APIView):
    api_key_permission = APIKey.Permission.READ_BLOCK

    @extend_schema(responses=s.BlockSerializer, tags=["blocks"])
    def get(self, request: AuthenticatedRequest, block_id: str) -> Response:
        block = get_block(block_id)
        if block is None:
            raise NotFound("Block not found.")
        return Response(s.BlockSerializer(block).data)


class PresetListApi(APIView):
    api_key_permission = READ_WRITE_GRAPH

    @extend_schema(
        responses=paginated_schema(s.PresetSerializer),
        parameters=[*PAGE_PARAMETERS, OpenApiParameter("graph_id", str)],
        tags=["presets"],
        operation_id="presets_list",
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        presets = selectors.preset_list(
            user=request.user, graph_id=request.query_params.get("graph_id") or None
        )
        return paginated_response(request, presets, s.PresetSerializer)

    @extend_schema(
        request=s.PresetCreateSerializer, responses={201: s.PresetSerializer}, tags=["presets"]
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = s.PresetCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        preset = services.preset_create(user=request.user, **data.validated_data)
        return Response(s.PresetSerializer(preset).data, status=status.HTTP_201_CREATED)


class PresetDetailApi(APIView):
    api_key_permission = READ_WRITE_GRAPH

    @extend_schema(responses=s.PresetSerializer, tags=["presets"])
    def get(self, request: AuthenticatedRequest, preset_id: str) -> Response:
        preset = selectors.preset_get(user=request.user, preset_id=preset_id)
        return Response(s.PresetSerializer(preset).data)

    @extend_schema(request=s.PresetUpdateSerializer, responses=s.PresetSerializer, tags=["presets"])
    def patch(self, request: AuthenticatedRequest, preset_id: str) -> Response:
        data = s.PresetUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        preset = services.preset_update(
            user=request.user, preset_id=preset_id, **data.validated_data
        )
        return Response(s.PresetSerializer(preset).data)

    @extend_schema(responses={204: None}, tags=["presets"])
    def delete(self, request: AuthenticatedRequest, preset_id: str) -> Response:
        services.preset_delete(user=request.user, preset_id=preset_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
