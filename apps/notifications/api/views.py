from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.api.lists import PAGE_PARAMETERS, paginated_response, paginated_schema
from apps.notifications import selectors, services
from apps.notifications.api import serializers as s
from apps.users.models import APIKey
from apps.users.requests import AuthenticatedRequest

IDENTITY = APIKey.Permission.IDENTITY


class NotificationListApi(APIView):
    api_key_permission = IDENTITY

    @extend_schema(
        responses=paginated_schema(s.NotificationSerializer),
        parameters=[*PAGE_PARAMETERS, OpenApiParameter("unread", bool, description="only unread")],
        tags=["notifications"],
        operation_id="notifications_list",
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        unread = request.query_params.get("unread") in ("1", "true", "yes")
        notifications = selectors.notification_list(user=request.user, unread=unread)
        return paginated_response(request, notifications, s.NotificationSerializer)


class NotificationReadApi(APIView):
    api_key_permission = IDENTITY

    @extend_schema(request=None, responses=s.NotificationSerializer, tags=["notifications"])
    def post(self, request: AuthenticatedRequest, notification_id: str) -> Response:
        notification = services.notification_mark_read(
            user=request.user, notification_id=notification_id
        )
        return Response(s.NotificationSerializer(notification).data)


class NotificationReadAllApi(APIView):
    api_key_permission = IDENTITY

    @extend_schema(request=None, responses=s.NotificationsReadSerializer, tags=["notifications"])
    def post(self, request: AuthenticatedRequest) -> Response:
        return Response({"marked_read": services.notification_mark_all_read(user=request.user)})
