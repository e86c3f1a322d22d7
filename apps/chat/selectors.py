import uuid

from django.db.models import QuerySet

from apps.chat.models import ChatSession
from apps.common.exceptions import NotFound
from apps.users.models import User


def chat_session_list(*, user: User) -> QuerySet[ChatSession]:
    return ChatSession.objects.filter(user=user)


def chat_session_get(*, user: User, session_id: uuid.UUID | str) -> ChatSession:
    try:
        return ChatSession.objects.prefetch_related("messages", "proposals", "runs").get(
            user=user, pk=uuid.UUID(str(session_id))
        )
    except (ValueError, ChatSession.DoesNotExist):
        raise NotFound("Chat session not found.") from None
