"""Describes API-key authentication in the OpenAPI schema (both header forms)."""

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "apps.users.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "An `agpt_…` key; `Authorization: Bearer agpt_…` works too.",
        }


class LoggedJWTScheme(SimpleJWTScheme):
    """The JWT class that also logs its user documents like simplejwt's own."""

    target_class = "apps.users.authentication.LoggedJWTAuthentication"


class LoggedSessionScheme(SessionScheme):
    target_class = "apps.users.authentication.LoggedSessionAuthentication"
