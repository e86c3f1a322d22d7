"""The email blocks against real SMTP and IMAP servers on loopback (tests/providers/mail.py)."""

import pytest

from apps.graphs.blocks.context import ProviderCredentials
from apps.graphs.blocks.library.email import ReadEmailsBlock, SendEmailBlock
from apps.graphs.runtime import block_context_build
from tests.processes import LOOPBACK_TEST_PORTS
from tests.providers.mail import PASSWORD, USERNAME

pytestmark = pytest.mark.django_db


@pytest.fixture
def mail(mail_servers, settings):
    settings.BLOCK_HTTP_ALLOWED_HOSTS = [LOOPBACK_TEST_PORTS]
    return mail_servers


def _account(provider: str, url: str, password: str = PASSWORD) -> dict:
    return {
        provider: ProviderCredentials(
            provider=provider,
            api_key=password,
            username=USERNAME,
            base_url=url,
            credential_type="user_password",
            id="c",
        )
    }


def _run(block, data, owner, credentials):
    context = block_context_build(user=owner, credentials=credentials)
    return list(block.execute(data, context)), context.stats


def test_it_sends_an_email_through_smtp_with_login(mail, owner):
    smtp, _ = mail
    outputs, _ = _run(
        SendEmailBlock(),
        {"to": ["ada@example.org"], "subject": "Otters", "body": "<b>Two</b>",
         "body_format": "html", "cc": ["bob@example.org"], "reply_to": "me@example.org"},
        owner,
        _account("smtp", smtp.url),
    )  # fmt: skip
    assert [pin for pin, _ in outputs] == ["message_id", "recipients"]
    [(recipients, message)] = smtp.messages
    assert recipients == ["ada@example.org", "bob@example.org"]
    assert message["From"] == USERNAME
    assert message["Subject"] == "Otters"
    assert message["Reply-To"] == "me@example.org"
    assert message["Message-ID"] == outputs[0][1]
    assert message.get_content_type() == "text/html"


def test_a_wrong_password_or_a_private_server_is_a_clear_error(mail, owner, settings):
    smtp, imap = mail
    data = {"to": "ada@example.org", "subject": "x", "body": "y"}
    outputs, stats = _run(SendEmailBlock(), data, owner, _account("smtp", smtp.url, "wrong"))
    assert outputs == [("error", "The SMTP server refused the username or password.")]
    assert stats["failure_kind"] == "auth"
    outputs, _ = _run(ReadEmailsBlock(), {}, owner, _account("imap", imap.url, "wrong"))
    assert outputs == [("error", "The IMAP server refused the username or password.")]
    assert smtp.messages == []

    settings.BLOCK_HTTP_ALLOWED_HOSTS = []
    outputs, _ = _run(SendEmailBlock(), data, owner, _account("smtp", smtp.url))
    assert "loopback" in outputs[0][1]
    outputs, _ = _run(SendEmailBlock(), data, owner, _account("smtp", "https://x.example.org"))
    assert "smtps://" in outputs[0][1]


def test_it_reads_unread_emails_and_marks_them_read(mail, owner):
    _, imap = mail
    account = _account("imap", imap.url)
    everything, _ = _run(ReadEmailsBlock(), {"unread_only": False}, owner, account)
    assert [e["subject"] for e in everything[0][1]] == ["Otter sighting", "Old news"]
    outputs, _ = _run(ReadEmailsBlock(), {"mark_read": True}, owner, account)
    [sighting] = outputs[0][1]
    assert sighting["from"] == "bob@example.org"
    assert sighting["text"].strip() == "Two otters at noon."
    assert imap.mailbox[2]["seen"] is True
    again, _ = _run(ReadEmailsBlock(), {}, owner, account)
    assert again == [("emails", [])]
