"""What `runplatform` becomes once Django has done its part: it execs into this module, which
holds none of Django's memory (~140 MiB less at idle), to run web, worker and beat.

Plain Python (stdlib only). The children run in sessions of their own, so a terminal's Ctrl-C
reaches only this process, which sends each child one SIGTERM (a second signal would make
uvicorn and Celery quit at once) and waits for it for its grace period plus MARGIN_SECONDS;
if one child dies, the others are stopped too. Run as
`python -m apps.common.supervise runplatform '<JSON>'`, the JSON holding each child's command
and grace period; the word `runplatform` stays in the command line, where the benchmark looks
for the platform's processes.
"""

import json
import signal
import subprocess
import sys
import time
from typing import Any

# Beyond the children's own grace periods, before they are killed.
MARGIN_SECONDS = 10


def supervise(children: dict[str, dict[str, Any]]) -> int:
    """Start the children ({name: {"command": [...], "grace": seconds}}) and wait until one
    exits or this process gets SIGINT/SIGTERM; stop them all; the exit code to leave with."""
    stopping = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    processes = {
        name: subprocess.Popen(child["command"], start_new_session=True)
        for name, child in children.items()
    }
    exit_code = 0
    while not stopping:
        for name, process in processes.items():
            if process.poll() is not None:
                sys.stderr.write(f"{name} exited with code {process.returncode}; stopping.\n")
                exit_code = process.returncode or 1
                stopping = True
        time.sleep(0.2)

    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    for name, process in processes.items():
        deadline = started + float(children[name]["grace"]) + MARGIN_SECONDS
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
    return exit_code


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "runplatform":
        sys.exit("usage: python -m apps.common.supervise runplatform '<JSON>'")
    sys.exit(supervise(json.loads(sys.argv[2])))
