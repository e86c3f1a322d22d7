"""Secrets at rest (SPEC §12): Fernet tokens under ENCRYPTION_KEY.

ENCRYPTION_KEY holds one or more comma-separated Fernet keys, newest first: new secrets are
encrypted with the first, every key decrypts (MultiFernet), so keys rotate by prepending a new
one and running `manage.py rotate_credentials` before the old one is dropped.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SecretUnreadable(Exception):
    """No configured key decrypts the token (the key it was written with is gone)."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("ENCRYPTION_KEY is not set; credentials cannot be stored.")
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _current().decrypt(token.encode("ascii")).decode()
    except InvalidToken:
        raise SecretUnreadable("no configured ENCRYPTION_KEY decrypts this secret") from None


def rotate(token: str) -> str:
    """The same secret, encrypted again under the newest key."""
    try:
        return _current().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise SecretUnreadable("no configured ENCRYPTION_KEY decrypts this secret") from None
