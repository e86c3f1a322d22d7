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
        required = getattr(view, "api_key_permission", None)
        if isinstance(required, dict):
            required = required.get(request.method)
        denial = api_key_denial(request.auth, required)
        if denial is not None:
            self.message = denial
            return False
        return True


def api_key_denial(api_key: object, required: str | None) -> str | None:
    """Why `api_key` may not do what needs `required` (None: it may). The one check of key
    permissions, for REST views and the /ws methods alike; JWT and session callers (no key)
    always may. `required=None` means closed to API keys."""
    if not isinstance(api_key, APIKey):
        return None
    if required is None:
        return "API keys cannot call this endpoint; sign in instead."
    if not api_key.has_permission(required):
        return f"This API key lacks the {required} permission."
    return None
