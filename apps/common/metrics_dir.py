"""The prometheus_client multiprocess directory (PROMETHEUS_MULTIPROC_DIR).

Every process writes its metrics there as files named by pid. Files left by an earlier start
would be added to this one's figures (and a reused pid would write into a dead process's file),
so the directory is emptied when a process group starts: by `runplatform`, or by
`manage.py reset_metrics` in a container's start-up command.
"""

import os
from pathlib import Path


def metrics_dir_reset() -> int:
    """Delete the metric files of earlier processes (not this one's); how many there were."""
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    own = f"_{os.getpid()}.db"
    stale = [path for path in directory.glob("*.db") if not path.name.endswith(own)]
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)
