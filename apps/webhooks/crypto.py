"""Webhook secrets at rest: Fernet under a key from WEBHOOK_ENCRYPTION_KEY (else SECRET_KEY).

The ingress must recompute the HMAC, so the secret is encrypted rather than hashed; changing
the key makes existing secrets unreadable (rotate them afterwards).
"""

import base64
import hashlib
import secrets as random
from functools import cache

from cryptography.fernet import Fernet
from django.conf import settings

SECRET_BYTES = 32


@cache
def _fernet(key_material: str) -> Fernet:
    digest = hashlib.sha256(b"autogpt-webhook-secrets:" + key_material.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _cipher() -> Fernet:
    return _fernet(settings.WEBHOOK_ENCRYPTION_KEY or settings.SECRET_KEY)


def secret_new() -> str:
    return "whsec_" + random.token_urlsafe(SECRET_BYTES)


def secret_encrypt(secret: str) -> str:
    return _cipher().encrypt(secret.encode()).decode()


def secret_decrypt(token: str) -> str:
    return _cipher().decrypt(token.encode()).decode()
