"""Long-lived processes load what they will use and freeze their startup heap, so the cyclic
collector's full collections stop walking Django and the apps (stalls of 80-135 ms mid-run
before), and the first run after a start does not wait for the block library (~300 ms, not ~30)."""

import subprocess
import sys

from tests.processes import ROOT

REPORT = """
from apps.graphs.blocks.registry import _registry
loaded = 'apps.executions.api.views' in sys.modules, _registry.cache_info().currsize
print(gc.get_freeze_count(), *loaded)
"""
WEB = (
    """
import gc, sys
import autogpt.asgi
"""
    + REPORT
)
# The worker's and beat's startup signal handlers, as Celery calls them.
CELERY = (
    """
import gc, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autogpt.settings")
import django
django.setup()
from autogpt import celery
celery.{handler}()
"""
    + REPORT
)


def _probe(code: str) -> tuple[int, str, int]:
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    frozen, views_loaded, blocks_loaded = result.stdout.split()
    return int(frozen), views_loaded, int(blocks_loaded)


def test_the_web_process_loads_its_views_and_blocks_and_freezes_them() -> None:
    frozen, views_loaded, blocks_loaded = _probe(WEB)
    assert frozen > 100_000
    assert (views_loaded, blocks_loaded) == ("True", 1)


def test_the_worker_loads_the_blocks_before_freezing_and_beat_does_not() -> None:
    frozen, _, blocks_loaded = _probe(CELERY.format(handler="_freeze_startup_heap"))
    assert frozen > 50_000
    assert blocks_loaded == 1
    frozen, _, blocks_loaded = _probe(CELERY.format(handler="_freeze_beat_heap"))
    assert frozen > 50_000
    assert blocks_loaded == 0
