from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.api.lists import PAGE_PARAMETERS
from apps.common.exceptions import ValidationFailed
from apps.common.pagination import PagePagination
from apps.executions import payloads, retry, selectors, services
from apps.executions.api import serializers as s
from apps.executions.api.idempotency import (
    IDEMPOTENCY_KEY_PARAMETER,
    idempotency_key,
    started_response,
)
from apps.executions.models import ExecutionStatus
from apps.graphs.api.serializers import BlockOutputsSerializer
from apps.graphs.runnable import graph_get, preset_get
from apps.users.models import APIKey
from apps.users.requests import AuthenticatedRequest

EXECUTE = APIKey.Permission.EXECUTE_GRAPH
READ = APIKey.Permission.READ_GRAPH
STATUS_PARAMETER = OpenApiParameter(
    "status", str, enum=[choice.value for choice in ExecutionStatus], description="filter"
)


HAS_ERRORS_PARAMETER = OpenApiParameter(
    "has_errors",
    bool,
    description="only runs in which some node failed (true) or none did (false)",
)
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _has_errors_filter(request: Request) -> bool | None:
    wanted = request.query_params.get("has_errors")
    if wanted is None or wanted == "":
        return None
    if wanted.lower() not in _BOOLEANS:
        raise ValidationFailed(
            "has_errors must be true or false.", details={"fields": {"has_errors": wanted}}
        )
    return _BOOLEANS[wanted.lower()]


def _status_filter(request: Request) -> str | None:
    wanted = request.query_params.get("status") or None
    if wanted is not None and wanted not in ExecutionStatus.values:
        raise ValidationFailed(
            f"status must be one of {', '.join(ExecutionStatus.values)}.",
            details={"fields": {"status": wanted}},
        )
    return wanted


CURSOR_PARAMETER = OpenApiParameter(
    "cursor",
    str,
    description="continue after the last run of a page: its `next_cursor` (constant cost at"
    " any depth; `page` is then only echoed back)",
)


def run_list_response(request: Request, runs: selectors.RunList) -> Response:
    """The paginated shape plus `total_is_estimate` (past 10,000 runs `total` is the
    database's estimate) and `next_cursor` (null on the last page)."""
    paginator = PagePagination()
    cursor = request.query_params.get("cursor") or None
    if cursor is None:
        page = paginator.paginate_queryset(runs, request)
    else:
        paginator.paginate_queryset([], request)  # validates page and page_size
        paginator.total = runs.count()
        page = runs.after(cursor)[0 : paginator.page_size]
    response = paginator.get_paginated_response(
        [payloads.graph_execution_rest(run) for run in page]
    )
    response.data["total_is_estimate"] = runs.is_estimate
    full = len(page) == paginator.page_size
    response.data["next_cursor"] = selectors.cursor_of(page[-1]) if full else None
    return response


class BlockExecuteApi(APIView):
    """`POST /api/blocks/{id}/execute`: here rather than in graphs because it charges credits."""

    api_key_permission = APIKey.Permission.EXECUTE_BLOCK

    @extend_schema(
        request={"application/json": {"type": "object", "additionalProperties": True}},
        responses=BlockOutputsSerializer,
        tags=["blocks"],
        summary="Run one block on the given input; answers {pin: [values]}",
    )
    def post(self, request: AuthenticatedRequest, block_id: str) -> Response:
        if not isinstance(request.data, dict):
            raise ValidationFailed("The body must be an object of input pins.")
        outputs = services.block_execute_charged(
            user=request.user, block_id=block_id, data=request.data
        )
        return Response(outputs)


class GraphExecuteApi(APIView):
    api_key_permission = EXECUTE

    @extend_schema(
        request=s.ExecuteRequestSerializer,
        responses=s.GraphExecutionSerializer,
        parameters=[
            OpenApiParameter("preset_id", str, description="start from a preset"),
            IDEMPOTENCY_KEY_PARAMETER,
        ],
        tags=["executions"],
        summary="Start a run (the active version unless one is given)",
    )
    def post(
        self, request: AuthenticatedRequest, graph_id: str, version: int | None = None
    ) -> Response:
        key = idempotency_key(request)
        data = s.ExecuteRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return started_response(
            request,
            key,
            lambda: services.graph_execution_start(
                user=request.user,
                graph_id=graph_id,
                graph_version=version,
                preset_id=request.query_params.get("preset_id") or None,
                **data.validated_data,
            ),
            payloads.graph_execution_rest,
        )


class GraphExecuteVersionApi(GraphExecuteApi):
    @extend_schema(
        request=s.ExecuteRequestSerializer,
        responses=s.GraphExecutionSerializer,
        parameters=[
            OpenApiParameter("preset_id", str, description="start from a preset"),
            IDEMPOTENCY_KEY_PARAMETER,
        ],
        tags=["executions"],
        summary="Start a run of a given version",
        operation_id="graphs_execute_version_create",
    )
    def post(
        self, request: AuthenticatedRequest, graph_id: str, version: int | None = None
    ) -> Response:
        return super().post(request, graph_id, version)


class PresetExecuteApi(APIView):
    api_key_permission = EXECUTE

    @extend_schema(
        request=s.ExecuteRequestSerializer,
        responses=s.GraphExecutionSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        tags=["presets"],
        summary="Start a run from a preset (request inputs override the preset's)",
    )
    def post(self, request: AuthenticatedRequest, preset_id: str) -> Response:
        key = idempotency_key(request)
        preset = preset_get(user=request.user, preset_id=preset_id)
        data = s.ExecuteRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return started_response(
            request,
            key,
            lambda: services.graph_execution_start(
                user=request.user,
                graph_id=preset.graph_id,
                preset_id=preset.pk,
                **data.validated_data,
            ),
            lambda execution: s.GraphExecutionSerializer(execution).data,
        )


class GraphExecutionStopApi(APIView):
    api_key_permission = EXECUTE

    @extend_schema(request=None, responses=s.GraphExecutionSerializer, tags=["executions"])
    def post(self, request: AuthenticatedRequest, graph_id: str, graph_exec_id: str) -> Response:
        execution = services.graph_execution_stop(
            user=request.user, graph_id=graph_id, graph_exec_id=graph_exec_id
        )
        return Response(s.GraphExecutionSerializer(execution).data)


class GraphExecutionListApi(APIView):
    api_key_permission = READ

    @extend_schema(
        responses=s.RUN_LIST_SCHEMA,
        parameters=[*PAGE_PARAMETERS, STATUS_PARAMETER, HAS_ERRORS_PARAMETER, CURSOR_PARAMETER],
        tags=["executions"],
        operation_id="graphs_executions_list",
    )
    def get(self, request: AuthenticatedRequest, graph_id: str) -> Response:
        graph_get(user=request.user, graph_id=graph_id)
        executions = selectors.graph_execution_pages(
            user=request.user,
            graph_id=graph_id,
            status=_status_filter(request),
            has_errors=_has_errors_filter(request),
        )
        return run_list_response(request, executions)


class ExecutionListApi(APIView):
    api_key_permission = READ

    @extend_schema(
        responses=s.RUN_LIST_SCHEMA,
        parameters=[
            *PAGE_PARAMETERS,
            STATUS_PARAMETER,
            HAS_ERRORS_PARAMETER,
            OpenApiParameter("graph_id", str),
            CURSOR_PARAMETER,
        ],
        tags=["executions"],
        operation_id="executions_list",
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        executions = selectors.graph_execution_pages(
            user=request.user,
            graph_id=request.query_params.get("graph_id") or None,
            status=_status_filter(request),
            has_errors=_has_errors_filter(request),
        )
        return run_list_response(request, executions)


class ExecutionDetailApi(APIView):
    api_key_permission = {"GET": READ, "DELETE": EXECUTE}

    @extend_schema(responses=s.GraphExecutionDetailSerializer, tags=["executions"])
    def get(self, request: AuthenticatedRequest, graph_exec_id: str) -> Response:
        execution = selectors.graph_execution_get(user=request.user, graph_exec_id=graph_exec_id)
        rows = selectors.node_execution_rows(execution=execution)
        return Response(s.graph_execution_detail_data(execution, rows))

    @extend_schema(responses={204: None}, tags=["executions"], summary="Delete (soft)")
    def delete(self, request: AuthenticatedRequest, graph_exec_id: str) -> Response:
        services.graph_execution_delete(user=request.user, graph_exec_id=graph_exec_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExecutionRetryApi(APIView):
    api_key_permission = EXECUTE

    @extend_schema(
        request=s.RetryRequestSerializer,
        responses=s.GraphExecutionSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        tags=["executions"],
        summary="Retry a finished run from its failures",
        description="A new run (`retry_of`) of the same version and inputs that takes every "
        "completed node execution's outputs as they were (not run or charged again) and runs "
        "only what failed, was cancelled or never ran (SPEC §17). 409 while the run is not "
        "finished, or when every node of it completed.",
    )
    def post(self, request: AuthenticatedRequest, graph_exec_id: str) -> Response:
        key = idempotency_key(request)
        data = s.RetryRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return started_response(
            request,
            key,
            lambda: retry.graph_execution_retry(
                user=request.user, graph_exec_id=graph_exec_id, **data.validated_data
            ),
            payloads.graph_execution_rest,
        )


class ExecutionResultsApi(APIView):
    api_key_permission = READ

    @extend_schema(responses=s.ExecutionResultsSerializer, tags=["executions"])
    def get(self, request: AuthenticatedRequest, graph_exec_id: str) -> Response:
        execution = selectors.graph_execution_get(user=request.user, graph_exec_id=graph_exec_id)
        rows = selectors.node_execution_rows(execution=execution)
        return Response(s.execution_results_data(execution, rows))


class ExecutionShareApi(APIView):
    api_key_permission = EXECUTE

    @extend_schema(request=None, responses=s.ShareSerializer, tags=["executions"])
    def post(self, request: AuthenticatedRequest, graph_id: str, graph_exec_id: str) -> Response:
        execution = services.graph_execution_share(
            user=request.user, graph_id=graph_id, graph_exec_id=graph_exec_id
        )
        token = execution.share_token
        url = f"{settings.SITE_URL.rstrip('/')}/api/public/shared/{token}"
        return Response({"share_token": token, "share_url": url})

    @extend_schema(responses={204: None}, tags=["executions"])
    def delete(self, request: AuthenticatedRequest, graph_id: str, graph_exec_id: str) -> Response:
        services.graph_execution_unshare(
            user=request.user, graph_id=graph_id, graph_exec_id=graph_exec_id
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class SharedExecutionApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses=s.SharedExecutionSerializer, tags=["executions"], auth=[])
    def get(self, request: Request, share_token: str) -> Response:
        execution = selectors.graph_execution_get_shared(share_token=share_token)
        return Response(s.SharedExecutionSerializer(execution).data)
