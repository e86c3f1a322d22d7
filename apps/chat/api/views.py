import json
from collections.abc import Iterator
from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.chat import selectors, services
from apps.chat.api import serializers as s
from apps.chat.copilot import actions
from apps.common.api.lists import PAGE_PARAMETERS, paginated_response, paginated_schema
from apps.common.api.schema import SSE_EVENT
from apps.graphs.blocks import llm
from apps.users.requests import AuthenticatedRequest


def sse(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


class EventStreamRenderer(BaseRenderer):
    """Lets a client ask for `text/event-stream`; an error then arrives as one `error` event."""

    media_type = "text/event-stream"
    format = "sse"

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):
        return sse("error", data)


class ChatModelListApi(APIView):
    @extend_schema(responses=s.ChatModelSerializer(many=True), tags=["chat"])
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(s.ChatModelSerializer(llm.MODELS, many=True).data)


class ChatSessionListApi(APIView):
    @extend_schema(
        responses=paginated_schema(s.ChatSessionSerializer),
        parameters=PAGE_PARAMETERS,
        tags=["chat"],
        operation_id="chat_sessions_list",
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        rows = selectors.chat_session_list(user=request.user)
        return paginated_response(request, rows, s.ChatSessionSerializer)

    @extend_schema(
        request=s.ChatSessionCreateSerializer,
        responses={201: s.ChatSessionSerializer},
        tags=["chat"],
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = s.ChatSessionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.chat_session_create(user=request.user, **data.validated_data)
        return Response(s.ChatSessionSerializer(session).data, status=status.HTTP_201_CREATED)


class ChatSessionDetailApi(APIView):
    @extend_schema(responses=s.ChatSessionDetailSerializer, tags=["chat"])
    def get(self, request: AuthenticatedRequest, session_id: str) -> Response:
        session = selectors.chat_session_get(user=request.user, session_id=session_id)
        return Response(s.ChatSessionDetailSerializer(session).data)

    @extend_schema(responses={204: None}, tags=["chat"])
    def delete(self, request: AuthenticatedRequest, session_id: str) -> Response:
        services.chat_session_delete(user=request.user, session_id=session_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _events(reply: services.ChatReply) -> Iterator[bytes]:
    yield sse(
        "message_start",
        {
            "session_id": str(reply.session.pk),
            "user_message_id": str(reply.user_message.pk),
            "message_id": str(reply.message.pk),
        },
    )
    try:
        for name, data in reply.events():
            yield sse(name, data)
    except Exception:  # saved as failed (and refunded) by the reply; the reason is its error
        yield sse("error", {"message": reply.message.error, "message_id": str(reply.message.pk)})
        return
    yield sse("done", s.ChatMessageSerializer(reply.message).data)


class ChatMessageCreateApi(APIView):
    renderer_classes = [JSONRenderer, EventStreamRenderer]

    @extend_schema(
        request=s.ChatMessageCreateSerializer,
        responses={
            (200, "text/event-stream"): OpenApiResponse(
                SSE_EVENT,
                description="Server-sent events: `message_start`, one `delta` per piece of the "
                "reply ({content}), then `done` (the saved message) or `error` ({message}). A "
                "copilot session also sends `tool_call` ({message_id, tool_call_id, name, "
                "arguments}), `tool_result` ({message_id, tool_call_id, name, result, "
                "proposal_id, run_request_id}) and `turn` ({message_id}: the next model call).",
            )
        },
        tags=["chat"],
    )
    def post(self, request: AuthenticatedRequest, session_id: str) -> StreamingHttpResponse:
        data = s.ChatMessageCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reply = services.chat_reply_start(
            user=request.user, session_id=session_id, content=data.validated_data["content"]
        )
        response = StreamingHttpResponse(_events(reply), content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # proxies must pass each event on at once
        return response


class CopilotProposalDetailApi(APIView):
    @extend_schema(responses=s.CopilotProposalSerializer, tags=["chat"])
    def get(self, request: AuthenticatedRequest, proposal_id: str) -> Response:
        proposal = actions.copilot_proposal_get(user=request.user, proposal_id=proposal_id)
        return Response(s.CopilotProposalSerializer(proposal).data)


class CopilotProposalSaveApi(APIView):
    @extend_schema(
        request=s.CopilotProposalSaveSerializer,
        responses={201: s.CopilotProposalSerializer},
        tags=["chat"],
        summary="Save the proposal as a new agent or a new version (the user's click)",
    )
    def post(self, request: AuthenticatedRequest, proposal_id: str) -> Response:
        data = s.CopilotProposalSaveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        actions.copilot_proposal_save(
            user=request.user, proposal_id=proposal_id, save_as=data.validated_data["save_as"]
        )
        proposal = actions.copilot_proposal_get(user=request.user, proposal_id=proposal_id)
        return Response(s.CopilotProposalSerializer(proposal).data, status=status.HTTP_201_CREATED)


class CopilotRunConfirmApi(APIView):
    @extend_schema(
        request=None,
        responses=s.CopilotRunSerializer,
        tags=["chat"],
        summary="Start the run the copilot asked for (the user's confirmation)",
    )
    def post(self, request: AuthenticatedRequest, run_id: str) -> Response:
        run = actions.copilot_run_confirm(user=request.user, run_id=run_id)
        return Response(s.CopilotRunSerializer(run).data)


class CopilotRunDeclineApi(APIView):
    @extend_schema(request=None, responses=s.CopilotRunSerializer, tags=["chat"])
    def post(self, request: AuthenticatedRequest, run_id: str) -> Response:
        run = actions.copilot_run_decline(user=request.user, run_id=run_id)
        return Response(s.CopilotRunSerializer(run).data)
