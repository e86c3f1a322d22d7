"""Refuse to start without a usable encryption key outside DEBUG (like SECRET_KEY), and with an
S3 file storage configured but its library missing."""

import importlib.util

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, register

from apps.integrations.selectors import STORAGE_ALIAS


@register()
def encryption_key(app_configs, **kwargs) -> list[Error]:
    keys = settings.ENCRYPTION_KEYS
    if not keys:
        return [
            Error(
                "ENCRYPTION_KEY is not set with DEBUG off; set it to a Fernet key "
                "(python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())').",
                id="integrations.E001",
            )
        ]
    errors = []
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except ValueError:
            errors.append(
                Error(
                    f"ENCRYPTION_KEY entry {position} is not a Fernet key (32 url-safe "
                    "base64-encoded bytes).",
                    id="integrations.E002",
                )
            )
    return errors


@register()
def file_storage(app_configs, **kwargs) -> list[Error]:
    backend = settings.STORAGES[STORAGE_ALIAS]["BACKEND"]
    if backend.startswith("storages.") and (
        importlib.util.find_spec("storages") is None or importlib.util.find_spec("boto3") is None
    ):
        return [
            Error(
                "FILE_STORAGE_S3_BUCKET is set but django-storages or boto3 is not installed; "
                "pip install 'django-storages[s3]'.",
                id="integrations.E003",
            )
        ]
    return []
