import pytest
from django.test import Client

from apps.users.models import User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_it_signs_in_through_the_page_and_the_session_reaches_the_api(owner: User) -> None:
    client = Client()
    page = client.get("/login")
    assert page.status_code == 200
    assert b"Sign in" in page.content
    response = client.post("/login", {"username": "ALICE@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/api/user").json()["email"] == "alice@example.com"
    assert b">Alice</span>" in client.get("/", follow=True).content


def test_it_shows_an_error_for_a_wrong_password(owner: User) -> None:
    response = Client().post("/login", {"username": "alice@example.com", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct" in response.content


def test_it_signs_up_and_signs_in(db) -> None:
    client = Client()
    response = client.post(
        "/signup",
        {"email": "gina@example.com", "name": "Gina", "password": PASSWORD, "timezone": "UTC"},
    )
    assert response.status_code == 302
    assert User.objects.filter(email="gina@example.com").exists()
    assert b">Gina</span>" in client.get("/", follow=True).content


def test_it_keeps_the_form_with_the_error_for_a_taken_email(owner: User) -> None:
    response = Client().post(
        "/signup", {"email": "alice@example.com", "password": PASSWORD, "timezone": "UTC"}
    )
    assert response.status_code == 200
    assert b"already exists" in response.content


def test_it_signs_out_with_post(owner: User) -> None:
    client = Client()
    client.force_login(owner)
    assert client.post("/logout").status_code == 302
    assert client.get("/api/user").status_code == 401


def test_unknown_pages_render_the_html_404() -> None:
    response = Client().get("/no-such-page")
    assert response.status_code == 404
    assert b"Page not found" in response.content
