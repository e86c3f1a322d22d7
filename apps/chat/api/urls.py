from django.urls import path

from apps.chat.api import views

urlpatterns = [
    path("chat/models", views.ChatModelListApi.as_view(), name="chat-models"),
    path("chat/sessions", views.ChatSessionListApi.as_view(), name="chat-session-list"),
    path(
        "chat/sessions/<uuid:session_id>",
        views.ChatSessionDetailApi.as_view(),
        name="chat-session-detail",
    ),
    path(
        "chat/sessions/<uuid:session_id>/messages",
        views.ChatMessageCreateApi.as_view(),
        name="chat-message-create",
    ),
    path(
        "chat/proposals/<uuid:proposal_id>",
        views.CopilotProposalDetailApi.as_view(),
        name="chat-proposal-detail",
    ),
    path(
        "chat/proposals/<uuid:proposal_id>/save",
        views.CopilotProposalSaveApi.as_view(),
        name="chat-proposal-save",
    ),
    path(
        "chat/runs/<uuid:run_id>/confirm",
        views.CopilotRunConfirmApi.as_view(),
        name="chat-run-confirm",
    ),
    path(
        "chat/runs/<uuid:run_id>/decline",
        views.CopilotRunDeclineApi.as_view(),
        name="chat-run-decline",
    ),
]
