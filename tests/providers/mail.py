"""Mail servers on loopback for the email blocks: SMTP with AUTH (aiosmtpd) that keeps what it
receives, and an IMAP4rev1 server speaking the commands imaplib sends for reading a mailbox
(CAPABILITY, LOGIN, SELECT/EXAMINE, UID SEARCH, UID FETCH, UID STORE, LOGOUT)."""

import email
import email.policy
import re
import socketserver
import threading
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.processes import free_port

USERNAME, PASSWORD = "otto@example.org", "mail-secret"


class _Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any):
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USERNAME.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # unhandled: aiosmtpd answers 535 itself


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.handler = _Sink()
        self.controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=_authenticator,
            auth_require_tls=False,  # loopback only; real servers get STARTTLS or smtps://
        )

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[tuple[list[str], EmailMessage]]:
        with self.handler.lock:
            return list(self.handler.messages)

    def reset(self) -> None:
        with self.handler.lock:
            self.handler.messages.clear()

    def start(self) -> "SmtpServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


def _message(uid: int, subject: str, sender: str, text: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"] = sender, USERNAME
    message["Subject"], message["Date"] = subject, "Mon, 02 Nov 2026 09:00:00 +0000"
    message["Message-ID"] = f"<m{uid}@example.org>"
    message.set_content(text)
    return message.as_bytes()


class _ImapHandler(socketserver.StreamRequestHandler):
    server: "_ImapTcp"

    def send(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.send("* OK [CAPABILITY IMAP4rev1] fake IMAP ready")
        logged_in = False
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            tag, _, rest = raw.decode().rstrip("\r\n").partition(" ")
            command, _, args = rest.partition(" ")
            command = command.upper()
            if command == "UID":
                sub, _, args = args.partition(" ")
                command = f"UID {sub.upper()}"
            if command == "CAPABILITY":
                self.send("* CAPABILITY IMAP4rev1")
                self.send(f"{tag} OK CAPABILITY completed")
            elif command == "LOGIN":
                user, password = [part.strip('"') for part in args.split(" ", 1)]
                logged_in = (user, password) == (USERNAME, PASSWORD)
                self.send(
                    f"{tag} OK LOGIN completed"
                    if logged_in
                    else f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials"
                )
            elif not logged_in and command != "LOGOUT":
                self.send(f"{tag} BAD not logged in")
            elif command in ("SELECT", "EXAMINE"):
                if args.strip('"').upper() != "INBOX":
                    self.send(f"{tag} NO [NONEXISTENT] Unknown mailbox")
                    continue
                self.send(f"* {len(self.server.mailbox)} EXISTS")
                self.send("* FLAGS (\\Seen)")
                self.send(f"{tag} OK [READ-WRITE] {command} completed")
            elif command == "UID SEARCH":
                unseen = "UNSEEN" in args.upper()
                uids = [
                    str(uid) for uid, m in self.server.mailbox.items() if not (unseen and m["seen"])
                ]
                self.send("* SEARCH " + " ".join(uids))
                self.send(f"{tag} OK SEARCH completed")
            elif command == "UID FETCH":
                uid = int(args.split(" ", 1)[0])
                data = self.server.mailbox[uid]["raw"]
                self.wfile.write(f"* {uid} FETCH (UID {uid} BODY[] {{{len(data)}}}\r\n".encode())
                self.wfile.write(data + b")\r\n")
                self.send(f"{tag} OK FETCH completed")
            elif command == "UID STORE":
                uid = int(args.split(" ", 1)[0])
                if re.search(r"\\Seen", args):
                    self.server.mailbox[uid]["seen"] = True
                self.send(f"* {uid} FETCH (UID {uid} FLAGS (\\Seen))")
                self.send(f"{tag} OK STORE completed")
            elif command in ("CLOSE", "NOOP"):
                self.send(f"{tag} OK {command} completed")
            elif command == "LOGOUT":
                self.send("* BYE logging out")
                self.send(f"{tag} OK LOGOUT completed")
                return
            else:
                self.send(f"{tag} BAD unknown command")


class _ImapTcp(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    mailbox: dict[int, dict[str, Any]]


class ImapServer:
    def __init__(self) -> None:
        self._server = _ImapTcp(("127.0.0.1", 0), _ImapHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.reset()

    @property
    def url(self) -> str:
        return f"imap://127.0.0.1:{self._server.server_address[1]}"

    @property
    def mailbox(self) -> dict[int, dict[str, Any]]:
        return self._server.mailbox

    def reset(self) -> None:
        self._server.mailbox = {
            1: {"raw": _message(1, "Old news", "ada@example.org", "Seen already."), "seen": True},
            2: {
                "raw": _message(2, "Otter sighting", "bob@example.org", "Two otters at noon."),
                "seen": False,
            },
        }

    def start(self) -> "ImapServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
