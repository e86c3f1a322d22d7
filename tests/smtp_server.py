"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for tests that send
email through Django's SMTP backend, from this process or a worker."""

import email
import email.policy
import threading
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.processes import free_port


class _Sink:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)  # type: ignore[attr-defined]
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class SmtpSink:
    def __init__(self) -> None:
        self.port = free_port()
        self.handler = _Sink()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[EmailMessage]:
        with self.handler.lock:
            return list(self.handler.messages)

    def start(self) -> "SmtpSink":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
