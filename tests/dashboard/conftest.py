import pytest
from django.test import Client

from apps.users.models import User
from tests.dashboard.helpers import signed_in


@pytest.fixture
def alice(owner: User) -> Client:
    return signed_in(owner)


@pytest.fixture
def bob(other_user: User) -> Client:
    return signed_in(other_user)
