"""A small client for ClamAV's daemon: the INSTREAM command over TCP (see clamd(8)).

The file never touches the scanner's disk: after `zINSTREAM\\0` it is sent as chunks, each a
4-byte big-endian length and its bytes, closed by a zero length. clamd answers one line:
`stream: OK`, `stream: <signature> FOUND`, or `<reason> ERROR`. Plain Python: no Django.
"""

import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass


class ScannerUnavailable(Exception):
    """clamd could not be reached, broke off, or answered with an error."""


@dataclass(frozen=True)
class ScanResult:
    infected: bool
    signature: str = ""


class ClamdClient:
    def __init__(self, *, host: str, port: int = 3310, timeout: float = 30.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout

    def _connect(self) -> socket.socket:
        try:
            return socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise ScannerUnavailable(
                f"cannot reach clamd at {self.host}:{self.port}: {exc}"
            ) from None

    @staticmethod
    def _reply(sock: socket.socket) -> str:
        data = b""
        while not data.endswith(b"\0"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.rstrip(b"\0").decode(errors="replace").strip()

    def ping(self) -> bool:
        try:
            with self._connect() as sock:
                sock.sendall(b"zPING\0")
                return self._reply(sock) == "PONG"
        except (ScannerUnavailable, OSError):
            return False

    def scan(self, chunks: Iterable[bytes]) -> ScanResult:
        """Stream the bytes to clamd and say whether it found a signature."""
        try:
            with self._connect() as sock:
                sock.sendall(b"zINSTREAM\0")
                for chunk in chunks:
                    if chunk:
                        sock.sendall(struct.pack("!L", len(chunk)) + chunk)
                sock.sendall(struct.pack("!L", 0))
                reply = self._reply(sock)
        except OSError as exc:
            # clamd hangs up on a stream over its StreamMaxLength (after saying so).
            raise ScannerUnavailable(f"clamd broke off the scan: {exc}") from None
        if reply.endswith("FOUND"):
            signature = reply.removeprefix("stream:").removesuffix("FOUND").strip()
            return ScanResult(infected=True, signature=signature)
        if reply.endswith("OK"):
            return ScanResult(infected=False)
        raise ScannerUnavailable(f"clamd could not scan the file: {reply or 'no answer'}")
