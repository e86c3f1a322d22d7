"""docker/compose.yml as the Docker client resolves it (no engine needed), and the Dockerfile."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.processes import ROOT

DOCKER = ROOT / "docker"
PROFILES = ["--profile", "rabbitmq", "--profile", "clamav", "--profile", "backup"]
LONG_RUNNING = ["postgres", "redis", "web", "worker", "beat", "rabbitmq", "clamav"]


def _compose() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


@pytest.fixture(scope="module")
def stack() -> dict:
    compose = _compose()
    if compose is None:
        pytest.skip("no Docker client with compose here")
    done = subprocess.run(
        [*compose, "-f", str(DOCKER / "compose.yml"), *PROFILES, "config"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def test_compose_config_resolves_every_service(stack: dict) -> None:
    assert set(stack["services"]) == {
        "postgres",
        "redis",
        "migrate",
        "web",
        "worker",
        "beat",
        "backup",
        "rabbitmq",
        "clamav",
    }
    assert {"pgdata", "redisdata", "metrics", "backups"} <= set(stack["volumes"])


def test_processes_wait_for_a_finished_migration_and_healthy_stores(stack: dict) -> None:
    services = stack["services"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("web", "worker", "beat"):
        needs = services[name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully", name
        assert needs["redis"]["condition"] == "service_healthy", name


def test_long_running_services_restart_rotate_logs_and_the_main_ones_report_health(
    stack: dict,
) -> None:
    services = stack["services"]
    for name in LONG_RUNNING:
        assert services[name]["restart"] == "unless-stopped", name
        logging = services[name]["logging"]
        assert logging["driver"] == "json-file", name
        assert logging["options"] == {"max-size": "10m", "max-file": "5"}, name
    for name in ("postgres", "redis", "web", "worker", "rabbitmq", "clamav"):
        assert services[name]["healthcheck"]["test"], name
    assert services["rabbitmq"]["profiles"] == ["rabbitmq"]
    assert services["clamav"]["profiles"] == ["clamav"]


def test_workers_scale_and_outlast_their_grace_period(stack: dict) -> None:
    worker = stack["services"]["worker"]
    # `--scale worker=5` needs neither a fixed name nor a published port.
    assert "container_name" not in worker
    assert "ports" not in worker
    grace = int(re.search(r"EXECUTION_SHUTDOWN_GRACE_SECONDS=(\d+)", _defaults())[1])
    assert _seconds(worker["stop_grace_period"]) > grace
    assert worker["environment"]["DATABASE_URL"].startswith("postgres://")
    assert worker["environment"]["METRICS_SHARED_DIR"] == "/var/lib/autogpt/metrics"
    assert worker["init"] is True


def test_the_image_is_multi_stage_slim_non_root_with_static_files() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+) AS (\w+)$", dockerfile, re.MULTILINE)
    assert [stage for _, stage in stages] == ["islands", "build", "runtime"]
    assert all("slim" in image for image, _ in stages)
    # Every JavaScript island is built in the image, from its lockfile.
    islands = dockerfile.split("AS islands", 1)[1].split("AS build", 1)[0]
    assert "npm ci" in islands
    assert "COPY --from=islands /src/static/ ./static/" in dockerfile
    runtime = dockerfile.split("AS runtime", 1)[1]
    assert re.search(r"^USER app$", runtime, re.MULTILINE)
    assert "collectstatic" in dockerfile.split("AS runtime", 1)[0]
    assert "COPY --from=build /app /app" in runtime
    entrypoint = (DOCKER / "entrypoint.sh").read_text()
    assert entrypoint.count("manage.py reset_metrics") == 3


def _defaults() -> str:
    return (DOCKER / "defaults.env").read_text()


def _seconds(value: str | int | float) -> float:
    if isinstance(value, int | float):
        return float(value)
    match = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", value)
    assert match, value
    return int(match[1] or 0) * 60 + int(match[2] or 0)


def test_the_entrypoint_is_executable() -> None:
    assert Path(DOCKER / "entrypoint.sh").stat().st_mode & 0o111
