"""Metric files: emptied at start-up; added up across the containers sharing a volume."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.processes import ROOT, platform_env


def test_reset_metrics_deletes_the_files_of_earlier_processes(tmp_path: Path) -> None:
    (tmp_path / "counter_123.db").write_bytes(b"stale")
    (tmp_path / "keep.txt").write_text("not a metric file")
    env = {**platform_env(), "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "manage.py", "reset_metrics"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "1 stale files removed" in done.stdout
    # What is left: the command's own metric files (it is a process of the group) and others.
    left = sorted(path.name for path in tmp_path.iterdir())
    assert "counter_123.db" not in left
    assert "keep.txt" in left


def _write_counter(directory: Path, amount: float) -> None:
    """A process of one container counts `amount` into its directory."""
    directory.mkdir(parents=True)
    code = (
        "from prometheus_client import Counter; "
        f"Counter('autogpt_ops_test_calls', 't').inc({amount})"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)},
        check=True,
        timeout=60,
    )


@pytest.mark.django_db
def test_metrics_add_up_every_container_of_a_shared_volume(settings, tmp_path: Path) -> None:
    _write_counter(tmp_path / "web-1", amount=2)
    _write_counter(tmp_path / "worker-1", amount=3)
    settings.METRICS_SHARED_DIR = str(tmp_path)
    body = Client().get("/metrics").content.decode()
    assert "autogpt_ops_test_calls_total 5.0" in body
    assert "autogpt_queue_depth" in body
