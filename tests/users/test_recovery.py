"""Password reset and email verification on Django's auth machinery, mailed through a real
SMTP server on loopback (tests/smtp_server.py)."""

import re
from collections.abc import Iterator

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.users.models import User
from tests.factories import PASSWORD
from tests.processes import wait_for
from tests.smtp_server import SmtpSink

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-brand-new-passphrase-42"


@pytest.fixture(scope="module")
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def mail(settings, smtp_sink: SmtpSink) -> SmtpSink:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_sink.port
    settings.EMAIL_USE_TLS = False
    settings.SITE_URL = "https://agents.example.com"
    return smtp_sink


def _mail_to(sink: SmtpSink, address: str, subject: str, before: int) -> tuple[str, str]:
    message = wait_for(
        lambda: next(
            (m for m in sink.messages[before:] if m["To"] == address and m["Subject"] == subject),
            None,
        ),
        timeout=10,
        what=f"{subject!r} to {address}",
    )
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def _link(text: str) -> str:
    found = re.search(r"https://agents\.example\.com(/\S+)", text)
    assert found, text
    return found.group(1)


def test_it_resets_a_password_through_the_mailed_link(owner: User, mail: SmtpSink) -> None:
    before = len(mail.messages)
    browser = Client()
    asked = browser.post("/password-reset", {"email": "Alice@Example.com"})
    assert asked.status_code == 302
    assert asked["Location"] == "/password-reset/sent"
    assert "Check your email" in browser.get(asked["Location"]).content.decode()
    text, html = _mail_to(mail, "alice@example.com", "Reset your AutoGPT Platform password", before)
    path = _link(text)
    assert path in html  # the button and the plain address of the HTML part
    assert 'style="display: inline-block; background: #5b4ee6' in html

    opened = browser.get(path)
    assert opened.status_code == 302  # Django moves the token out of the address
    form = browser.get(opened["Location"])
    assert "Choose a new password" in form.content.decode()
    done = browser.post(
        opened["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert (done.status_code, done["Location"]) == (302, "/password-reset/complete")

    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)
    assert owner.email_verified_at is not None  # the link proved the address as well
    signed_in = Client().post("/login", {"username": "alice@example.com", "password": NEW_PASSWORD})
    assert signed_in.status_code == 302
    again = Client().get(path, follow=True)
    assert "This link no longer works" in again.content.decode()


def test_it_answers_the_same_for_an_unknown_address_and_mails_nothing(
    owner: User, mail: SmtpSink
) -> None:
    before = len(mail.messages)
    asked = Client().post("/password-reset", {"email": "nobody@example.com"})
    assert (asked.status_code, asked["Location"]) == (302, "/password-reset/sent")
    Client().post("/password-reset", {"email": "alice@example.com"})
    _mail_to(mail, "alice@example.com", "Reset your AutoGPT Platform password", before)
    assert all(m["To"] != "nobody@example.com" for m in mail.messages[before:])


def test_it_refuses_a_forged_reset_link(owner: User) -> None:
    page = Client().get("/password-reset/bm9ib2R5/abc-123", follow=True)
    assert "This link no longer works" in page.content.decode()
    assert owner.check_password(PASSWORD)


def test_it_mails_a_verification_link_at_sign_up_that_works_once(mail: SmtpSink) -> None:
    before = len(mail.messages)
    browser = Client()
    signed_up = browser.post(
        "/signup",
        {"email": "dana@example.com", "name": "Dana", "password": PASSWORD, "timezone": "UTC"},
    )
    assert signed_up.status_code == 302
    text, _ = _mail_to(mail, "dana@example.com", "Confirm your email address", before)
    assert "Hello Dana" in text
    path = _link(text)
    assert User.objects.get(email="dana@example.com").email_verified_at is None
    confirmed = browser.get(path)
    assert confirmed.status_code == 200
    assert "Email confirmed" in confirmed.content.decode()
    assert User.objects.get(email="dana@example.com").email_verified_at is not None
    assert Client().get(path).status_code == 400  # once


def test_it_mails_a_verification_link_when_the_api_registers(mail: SmtpSink) -> None:
    before = len(mail.messages)
    response = APIClient().post(
        "/api/auth/register",
        {"email": "erin@example.com", "password": PASSWORD, "name": "Erin"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["user"]["email_verified_at"] is None
    text, _ = _mail_to(mail, "erin@example.com", "Confirm your email address", before)
    assert Client().get(_link(text)).status_code == 200
    token = response.json()["access"]
    me = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/user").json()
    assert me["email_verified_at"] is not None


def test_it_sends_the_verification_link_again_from_the_profile(owner: User, mail: SmtpSink) -> None:
    before = len(mail.messages)
    browser = Client()
    browser.force_login(owner)
    assert "Send the confirmation link again" in browser.get("/settings/profile").content.decode()
    sent = browser.post("/verify-email/resend", follow=True)
    assert "We sent a confirmation link to alice@example.com" in sent.content.decode()
    text, _ = _mail_to(mail, "alice@example.com", "Confirm your email address", before)
    assert browser.get(_link(text)).status_code == 200
    assert "(confirmed)" in browser.get("/settings/profile").content.decode()


@pytest.mark.parametrize("path", ["/verify-email/xx/yy", "/verify-email/bm9ib2R5/abc-123"])
def test_it_refuses_a_bad_verification_link(path: str) -> None:
    page = Client().get(path)
    assert page.status_code == 400
    assert "This link no longer works" in page.content.decode()


def test_it_signs_up_even_when_the_mail_server_is_down(settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", 9, False
    signed_up = Client().post(
        "/signup",
        {"email": "finn@example.com", "name": "", "password": PASSWORD, "timezone": "UTC"},
    )
    assert signed_up.status_code == 302
    assert User.objects.filter(email="finn@example.com", email_verified_at=None).exists()
