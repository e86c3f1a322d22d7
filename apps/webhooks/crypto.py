"""Webhook secrets: made here, kept at rest as Fernet tokens under ENCRYPTION_KEY, like users'
provider keys (apps.integrations.crypto): the ingress must recompute the HMAC, so a secret is
encrypted rather than hashed."""

import secrets as random

from apps.integrations.crypto import SecretUnreadable, decrypt, encrypt

SECRET_BYTES = 32


def secret_new() -> str:
    return "whsec_" + random.token_urlsafe(SECRET_BYTES)


def secret_encrypt(secret: str) -> str:
    return encrypt(secret)


def secret_decrypt(token: str) -> str | None:
    """None when no configured key reads it any more (rotate the webhook's secret)."""
    try:
        return decrypt(token)
    except SecretUnreadable:
        return None
