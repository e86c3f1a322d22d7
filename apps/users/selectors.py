"""Reads of users' objects. Every fetch takes the user: another user's object is NotFound."""

import uuid

from django.db.models import QuerySet

from apps.common.exceptions import NotFound
from apps.users.models import APIKey, User


def api_key_list(*, user: User) -> QuerySet[APIKey]:
    return APIKey.objects.filter(user=user).order_by("-created_at")


def api_key_get(*, user: User, key_id: uuid.UUID | str) -> APIKey:
    try:
        return APIKey.objects.get(user=user, pk=key_id)
    except (APIKey.DoesNotExist, ValueError):
        raise NotFound("API key not found.") from None
