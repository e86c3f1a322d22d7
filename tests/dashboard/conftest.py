from collections.abc import Iterator

import pytest
from django.test import Client
from playwright.sync_api import Browser

from apps.users.models import User
from tests.dashboard.browser import launched
from tests.dashboard.helpers import signed_in


@pytest.fixture
def alice(owner: User) -> Client:
    return signed_in(owner)


@pytest.fixture
def bob(other_user: User) -> Client:
    return signed_in(other_user)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, one per test module."""
    with launched() as chromium:
        yield chromium
