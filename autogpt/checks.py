"""Production safety as system checks: the platform refuses to start misconfigured.

Registered from apps.common's AppConfig.ready(); `manage.py check --deploy` runs them too.
"""

from ipaddress import ip_address

from django.conf import settings
from django.core.checks import Error, register

from apps.common.http_allowlist import parse_allowed_host

_LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1", "testserver"}


def _is_local(host: str) -> bool:
    host = host.lstrip(".")
    if host in _LOCAL_HOSTS or host.endswith(".localhost"):
        return True
    try:
        return ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@register()
def production_safety(app_configs, **kwargs) -> list[Error]:
    errors = []
    public_hosts = [host for host in settings.ALLOWED_HOSTS if not _is_local(host)]
    if settings.DEBUG and public_hosts:
        errors.append(
            Error(
                "DEBUG is on while ALLOWED_HOSTS names a public host "
                f"({', '.join(public_hosts)}); set DEBUG=false for production.",
                id="autogpt.E001",
            )
        )
    if not settings.DEBUG and settings.SECRET_KEY == settings.DEV_SECRET_KEY:
        errors.append(
            Error(
                "SECRET_KEY is the development default; set SECRET_KEY to a long random value.",
                id="autogpt.E002",
            )
        )
    if not settings.DEBUG and not settings.ALLOWED_HOSTS:
        errors.append(
            Error(
                "ALLOWED_HOSTS is empty with DEBUG off; list the host names the site serves.",
                id="autogpt.E003",
            )
        )
    for entry in settings.BLOCK_HTTP_ALLOWED_HOSTS:
        try:
            parse_allowed_host(entry)
        except ValueError as exc:
            errors.append(
                Error(
                    f"BLOCK_HTTP_ALLOWED_HOSTS: {exc} (e.g. localhost:8080, 10.0.0.5:9000-9100).",
                    id="autogpt.E004",
                )
            )
    return errors
