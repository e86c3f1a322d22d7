"""Email (SPEC §16): send through SMTP (smtplib) and read through IMAP (imaplib), with the
account of a `user_password` credential whose base URL names the server: smtps://host:465
(implicit TLS) or smtp://host:587 (STARTTLS when the server offers it); imaps://host:993 or
imap://host:143. The server's address is held to the same public-address rule as HTTP blocks
and the connection goes to the address that was checked."""

import contextlib
import email
import email.policy
import imaplib
import smtplib
import socket
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import getaddresses, make_msgid
from typing import Any, Literal
from urllib.parse import urlsplit

from apps.common.safe_http import HttpRequestError, UnsafeUrlError
from apps.graphs.blocks.base import BlockCategory, BlockOutput, BlockSchema, SchemaField
from apps.graphs.blocks.context import BlockContext, ProviderCredentials
from apps.graphs.blocks.providers import (
    FailureKind,
    ProviderApi,
    ProviderBlock,
    ProviderError,
    provider_credentials,
)

DEFAULT_PORTS = {"smtp": 587, "smtps": 465, "imap": 143, "imaps": 993}
TIMEOUT_SECONDS = 30
MAX_MESSAGE_BYTES = 5 * 1024 * 1024
SMTP = ProviderApi(name="smtp", title="The SMTP server", default_base_url="")
IMAP = ProviderApi(name="imap", title="The IMAP server", default_base_url="")


def _server(context: BlockContext, credentials: ProviderCredentials, api: ProviderApi):
    """(scheme, host name, checked address, port) of the credential's mail server."""
    parts = urlsplit(credentials.base_url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ProviderError(
            f"{api.title}: the credential's base URL must be like smtps://mail.example.com:465 "
            "or imaps://mail.example.com:993.",
            FailureKind.CLIENT_ERROR,
        )
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    try:
        url, _, _ = context.http.checked_destination(f"http://{parts.hostname}:{port}/")
    except (UnsafeUrlError, HttpRequestError) as exc:
        raise ProviderError(f"{api.title}: {exc}", FailureKind.CONNECTION) from None
    address = urlsplit(url).hostname or ""
    return parts.scheme, parts.hostname, address, port


def _failure(api: ProviderApi, exc: Exception) -> ProviderError:
    if isinstance(exc, smtplib.SMTPAuthenticationError | imaplib.IMAP4.error) and (
        "auth" in str(exc).lower() or "login" in str(exc).lower() or exc.args[0] == 535
    ):
        return ProviderError(f"{api.title} refused the username or password.", FailureKind.AUTH)
    if isinstance(exc, TimeoutError | socket.timeout):
        return ProviderError(f"{api.title} did not answer in time.", FailureKind.TIMEOUT)
    if isinstance(exc, smtplib.SMTPResponseException) and 400 <= exc.smtp_code < 500:
        error = exc.smtp_error
        reason = (error.decode(errors="replace") if isinstance(error, bytes) else error)[:200]
        return ProviderError(
            f"{api.title} deferred the message ({exc.smtp_code} {reason}).",
            FailureKind.SERVER_ERROR,
        )
    if isinstance(exc, smtplib.SMTPException | imaplib.IMAP4.error | ssl.SSLError):
        return ProviderError(f"{api.title} refused: {str(exc)[:300]}", FailureKind.CLIENT_ERROR)
    return ProviderError(f"{api.title} could not be reached ({exc}).", FailureKind.CONNECTION)


class _PinnedSMTP(smtplib.SMTP):
    """Connects to the checked address while TLS checks the server's name."""

    def __init__(self, address: str, **kwargs: Any) -> None:
        self._address = address
        super().__init__(**kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return socket.create_connection((self._address, port), timeout)


class _PinnedSMTPS(smtplib.SMTP_SSL):
    def __init__(self, address: str, **kwargs: Any) -> None:
        self._address = address
        super().__init__(**kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        raw = socket.create_connection((self._address, port), timeout)
        # SMTP.connect() sets _host before asking for the socket; private, so not in typeshed.
        return self.context.wrap_socket(raw, server_hostname=self._host)  # type: ignore[attr-defined]


def _addresses(value: str | list[str]) -> list[str]:
    items = value if isinstance(value, list) else [value]
    found = [address for _, address in getaddresses(items) if "@" in address]
    return found


class SendEmailBlock(ProviderBlock):
    id = "7b7880a5-3094-4ef5-a11a-061b373a8fc5"
    name = "Send Email (SMTP)"
    description = (
        "Sends an email from your SMTP account (a username/password credential whose base URL "
        "is the server, e.g. smtps://smtp.example.com:465)."
    )
    categories = frozenset({BlockCategory.COMMUNICATION, BlockCategory.OUTPUT})
    api = SMTP
    credential_types = ("user_password",)

    class Input(BlockSchema):
        to: str | list[str] = SchemaField(description="One address, or several.")
        subject: str = SchemaField(description="The subject.", max_length=998)
        body: str = SchemaField(description="The message.")
        body_format: Literal["text", "html"] = SchemaField("text")
        cc: list[str] = SchemaField([], advanced=True)
        reply_to: str = SchemaField("", advanced=True)

    class Output(BlockOutput):
        message_id: str = SchemaField(description="The Message-ID header of the sent email.")
        recipients: list[str] = SchemaField(description="Every address it was sent to.")

    test_input = [
        {"to": "Ada <ada@example.org>", "subject": "Otters", "body": "Two at noon.",
         "cc": ["bob@example.org"]},
        {"to": "not an address", "subject": "x", "body": "y"},
    ]  # fmt: skip
    test_output = [
        ("message_id", lambda value: value.startswith("<") and value.endswith(">")),
        ("recipients", ["ada@example.org", "bob@example.org"]),
        ("error", lambda message: "No valid recipient" in message),
    ]

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        credentials = provider_credentials(context, self.api)
        to, cc = _addresses(input_data.to), _addresses(input_data.cc)
        if not to:
            raise ProviderError("No valid recipient address in `to`.", FailureKind.CLIENT_ERROR)
        message = EmailMessage()
        message["From"] = credentials.username
        message["To"], message["Subject"] = ", ".join(to), input_data.subject
        if cc:
            message["Cc"] = ", ".join(cc)
        if input_data.reply_to:
            message["Reply-To"] = input_data.reply_to
        message["Message-ID"] = make_msgid(domain=credentials.username.rpartition("@")[2] or None)
        message.set_content(
            input_data.body, subtype="html" if input_data.body_format == "html" else "plain"
        )
        if len(message.as_bytes()) > MAX_MESSAGE_BYTES:
            raise ProviderError("The email is over 5 MB.", FailureKind.CLIENT_ERROR)
        scheme, host, address, port = _server(context, credentials, self.api)
        try:
            if scheme == "smtps":
                client: smtplib.SMTP = _PinnedSMTPS(
                    address, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()
                )
            else:
                client = _PinnedSMTP(address, timeout=TIMEOUT_SECONDS)
            with client:
                client.connect(host, port)
                client.ehlo()
                if scheme == "smtp" and client.has_extn("starttls"):
                    client.starttls(context=ssl.create_default_context())
                    client.ehlo()
                client.login(credentials.username, credentials.api_key)
                client.send_message(message, to_addrs=to + cc)
        except (OSError, smtplib.SMTPException) as exc:
            raise _failure(self.api, exc) from None
        yield "message_id", message["Message-ID"]
        yield "recipients", to + cc


class _PinnedIMAP(imaplib.IMAP4):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self._address = address
        super().__init__(host, port, timeout=timeout)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        return socket.create_connection((self._address, self.port), timeout)


class _PinnedIMAPS(imaplib.IMAP4_SSL):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self._address = address
        super().__init__(host, port, ssl_context=ssl.create_default_context(), timeout=timeout)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        raw = socket.create_connection((self._address, self.port), timeout)
        return self.ssl_context.wrap_socket(raw, server_hostname=self.host)


def _parsed(uid: str, raw: bytes) -> dict[str, Any]:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return {
        "uid": uid,
        "from": str(message.get("From", "")),
        "to": str(message.get("To", "")),
        "subject": str(message.get("Subject", "")),
        "date": str(message.get("Date", "")),
        "message_id": str(message.get("Message-ID", "")),
        "text": text.get_content() if text is not None else "",
        "html": html.get_content() if html is not None else "",
    }


class ReadEmailsBlock(ProviderBlock):
    id = "f7efea6a-87ae-466c-9bf6-ea7f32f65593"
    name = "Read Emails (IMAP)"
    description = (
        "Reads the newest emails of a mailbox folder from your IMAP account: unread only or "
        "all, optionally marking them read."
    )
    categories = frozenset({BlockCategory.COMMUNICATION, BlockCategory.INPUT})
    api = IMAP
    credential_types = ("user_password",)

    class Input(BlockSchema):
        folder: str = SchemaField("INBOX", description="The mailbox folder.")
        unread_only: bool = SchemaField(True, description="Only emails not yet read.")
        limit: int = SchemaField(10, ge=1, le=200, description="At most this many, newest first.")
        mark_read: bool = SchemaField(False, description="Mark the emails read.")

    class Output(BlockOutput):
        emails: list[dict[str, Any]] = SchemaField(
            description="{uid, from, to, subject, date, message_id, text, html}, newest first."
        )
        email: dict[str, Any] = SchemaField(description="Each email, one at a time.")

    test_input = [{"unread_only": True}, {"folder": "Nowhere"}]
    test_output = [
        ("emails", lambda emails: [e["subject"] for e in emails] == ["Otter sighting"]),
        ("email", lambda e: e["text"].strip() == "Two otters at noon." and e["uid"] == "2"),
        ("error", lambda message: "Nowhere" in message),
    ]

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        credentials = provider_credentials(context, self.api)
        scheme, host, address, port = _server(context, credentials, self.api)
        connect = _PinnedIMAPS if scheme == "imaps" else _PinnedIMAP
        emails = []
        try:
            client = connect(host, port, address, TIMEOUT_SECONDS)
            try:
                client.login(credentials.username, credentials.api_key)
                folder = input_data.folder.replace("\\", "\\\\").replace('"', '\\"')
                status, _ = client.select(f'"{folder}"', readonly=not input_data.mark_read)
                if status != "OK":
                    raise ProviderError(
                        f"{self.api.title} has no folder {input_data.folder!r}.",
                        FailureKind.CLIENT_ERROR,
                    )
                _, found = client.uid("SEARCH", "UNSEEN" if input_data.unread_only else "ALL")
                uids = (found[0] or b"").split()[::-1][: input_data.limit]
                for uid in (number.decode() for number in uids):
                    _, data = client.uid("FETCH", uid, "(BODY.PEEK[])")
                    raw = next((part[1] for part in data if isinstance(part, tuple)), b"")
                    emails.append(_parsed(uid, raw[:MAX_MESSAGE_BYTES]))
                    if input_data.mark_read:
                        client.uid("STORE", uid, "+FLAGS", "(\\Seen)")
            finally:
                with contextlib.suppress(OSError, imaplib.IMAP4.error):
                    client.logout()
        except (OSError, imaplib.IMAP4.error) as exc:
            raise _failure(self.api, exc) from None
        yield "emails", emails
        for item in emails:
            yield "email", item
