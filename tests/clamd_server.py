"""A real ClamAV daemon for tests: Debian's `clamd` on a loopback TCP port, with its own config
and a signature database generated here (an MD5 `.hdb` signature of SAMPLE), so nothing is
downloaded. Tests that need it skip only when the clamd binary is not installed."""

import hashlib
import shutil
import subprocess
from pathlib import Path

from apps.integrations.clamd import ClamdClient
from tests.processes import free_port, wait_for

# Not a virus: the generated database names these bytes as one.
SAMPLE = b"This is the AutoGPT platform's clamd test sample; clamd is told it is a virus.\n"
SIGNATURE = "AutoGPT.Test.Sample"


def clamd_binary() -> str | None:
    return shutil.which("clamd") or next(
        (path for path in ("/usr/sbin/clamd", "/usr/local/sbin/clamd") if Path(path).exists()),
        None,
    )


class ClamdServer:
    def __init__(self, directory: Path, binary: str) -> None:
        self.directory = directory
        self.binary = binary
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "ClamdServer":
        database = self.directory / "db"
        database.mkdir(parents=True)
        digest = hashlib.md5(SAMPLE).hexdigest()  # noqa: S324 - the .hdb format is MD5
        (database / "autogpt-test.hdb").write_text(f"{digest}:{len(SAMPLE)}:{SIGNATURE}\n")
        config = self.directory / "clamd.conf"
        config.write_text(
            "\n".join(
                [
                    "Foreground yes",
                    f"TCPSocket {self.port}",
                    "TCPAddr 127.0.0.1",
                    f"DatabaseDirectory {database}",
                    f"LogFile {self.directory / 'clamd.log'}",
                    f"TemporaryDirectory {self.directory}",
                    "StreamMaxLength 20M",
                    "",
                ]
            )
        )
        self.process = subprocess.Popen(
            [self.binary, "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = ClamdClient(host="127.0.0.1", port=self.port, timeout=2)
        wait_for(
            lambda: self.process.poll() is not None or client.ping(),
            timeout=60,
            what="clamd to answer PING",
        )
        if self.process.poll() is not None:
            log = (self.directory / "clamd.log").read_text(errors="replace")
            raise RuntimeError(f"clamd exited with {self.process.returncode}:\n{log}")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
