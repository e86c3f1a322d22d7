"""`make run` calls `demo_user` on every start (issue 21: with DEBUG=false it stopped there)."""

import io

import pytest
from django.core.management import call_command

from apps.users.models import User

pytestmark = pytest.mark.django_db


def test_it_skips_the_demo_account_without_debug(settings) -> None:
    settings.DEBUG = False
    out = io.StringIO()
    call_command("demo_user", stdout=out)  # no CommandError: the platform goes on starting
    assert "no demo account" in out.getvalue()
    assert not User.objects.filter(email=settings.DEMO_USER_EMAIL).exists()


def test_it_creates_the_demo_account_once_with_debug(settings) -> None:
    settings.DEBUG = True
    call_command("demo_user", stdout=io.StringIO())
    call_command("demo_user", stdout=io.StringIO())
    demo = User.objects.get(email=settings.DEMO_USER_EMAIL)
    assert demo.is_staff
    assert demo.check_password(settings.DEMO_USER_PASSWORD)
