"""The web process freezes its startup heap, views included, so the cyclic collector's full
collections stop walking Django and the apps (stalls of 80-135 ms mid-run before)."""

import subprocess
import sys

from tests.processes import ROOT

PROBE = """
import gc, sys
import autogpt.asgi
print(gc.get_freeze_count(), 'apps.executions.api.views' in sys.modules)
"""


def test_the_web_process_freezes_what_it_loaded_at_startup() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    frozen, views_loaded = result.stdout.split()
    assert int(frozen) > 100_000
    assert views_loaded == "True"
