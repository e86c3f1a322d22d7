from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.api.lists import PAGE_PARAMETERS, paginated_response, paginated_schema
from apps.graphs import selectors as graph_selectors
from apps.schedules import selectors, services
from apps.schedules.api import serializers as s
from apps.users.models import APIKey
from apps.users.requests import AuthenticatedRequest

EXECUTE = APIKey.Permission.EXECUTE_GRAPH
READ = APIKey.Permission.READ_GRAPH


class GraphScheduleListApi(APIView):
    api_key_permission = {"GET": READ, "POST": EXECUTE}

    @extend_schema(
        responses=paginated_schema(s.ScheduleSerializer),
        parameters=PAGE_PARAMETERS,
        tags=["schedules"],
        operation_id="graphs_schedules_list",
    )
    def get(self, request: AuthenticatedRequest, graph_id: str) -> Response:
        graph = graph_selectors.graph_get(user=request.user, graph_id=graph_id)
        schedules = selectors.schedule_list(user=request.user, graph_id=graph.pk)
        return paginated_response(request, schedules, s.ScheduleSerializer)

    @extend_schema(
        request=s.ScheduleCreateSerializer,
        responses={201: s.ScheduleSerializer},
        tags=["schedules"],
        summary="Schedule runs of a graph version on a cron in a time zone",
    )
    def post(self, request: AuthenticatedRequest, graph_id: str) -> Response:
        data = s.ScheduleCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        schedule = services.schedule_create(
            user=request.user, graph_id=graph_id, **data.validated_data
        )
        return Response(s.ScheduleSerializer(schedule).data, status=status.HTTP_201_CREATED)


class ScheduleListApi(APIView):
    api_key_permission = READ

    @extend_schema(
        responses=paginated_schema(s.ScheduleSerializer),
        parameters=PAGE_PARAMETERS,
        tags=["schedules"],
        operation_id="schedules_list",
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        schedules = selectors.schedule_list(user=request.user)
        return paginated_response(request, schedules, s.ScheduleSerializer)


class ScheduleDetailApi(APIView):
    api_key_permission = {"GET": READ, "PATCH": EXECUTE, "DELETE": EXECUTE}

    @extend_schema(responses=s.ScheduleDetailSerializer, tags=["schedules"])
    def get(self, request: AuthenticatedRequest, schedule_id: str) -> Response:
        schedule = selectors.schedule_get(user=request.user, schedule_id=schedule_id)
        return Response(s.ScheduleDetailSerializer(schedule).data)

    @extend_schema(
        request=s.ScheduleUpdateSerializer,
        responses=s.ScheduleSerializer,
        tags=["schedules"],
        summary="Pause or resume (is_enabled), rename or re-time a schedule",
    )
    def patch(self, request: AuthenticatedRequest, schedule_id: str) -> Response:
        schedule = selectors.schedule_get(user=request.user, schedule_id=schedule_id)
        data = s.ScheduleUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        schedule = services.schedule_update(schedule=schedule, **data.validated_data)
        return Response(s.ScheduleSerializer(schedule).data)

    @extend_schema(responses={204: None}, tags=["schedules"])
    def delete(self, request: AuthenticatedRequest, schedule_id: str) -> Response:
        services.schedule_delete(user=request.user, schedule_id=schedule_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
