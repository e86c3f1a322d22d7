from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.users.models import APIKey


class ApiKeyPermission(BasePermission):
    """Checks an API key's permission list against what the view declares.

    A view declares `api_key_permission` as one permission name or a {method: name} mapping.
    Views (or methods) that declare none are closed to API keys: managing keys, for one, needs a
    signed-in user. JWT and session requests are not restricted here.
    """

    message = "This API key may not call this endpoint."

    def has_permission(self, request: Request, view) -> bool:
        if not isinstance(request.auth, APIKey):
            return True
        required = getattr(view, "api_key_permission", None)
        if isinstance(required, dict):
            required = required.get(request.method)
        if required is None:
            self.message = "API keys cannot call this endpoint; sign in instead."
            return False
        if not request.auth.has_permission(required):
            self.message = f"This API key lacks the {required} permission."
            return False
        return True
