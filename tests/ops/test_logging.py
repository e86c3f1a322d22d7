"""Production logging: JSON lines carrying request and execution ids; `check --deploy` clean."""

import json
import logging
import secrets
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.test import Client

from apps.common.logging import ContextFilter, JsonFormatter, execution_context
from tests.processes import ROOT

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": "platform.example.com",
}


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.addFilter(ContextFilter())
        self.setFormatter(JsonFormatter())
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def captured():
    handler = _Capture()
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.mark.django_db
def test_a_request_logs_and_answers_with_its_request_id(captured: _Capture) -> None:
    response = Client().get("/api/no-such-thing")
    assert response.status_code == 404
    generated = response["X-Request-ID"]
    assert len(generated) == 32
    (line,) = [line for line in captured.lines if "/api/no-such-thing" in line["message"]]
    assert line["request_id"] == generated
    assert line["level"] == "WARNING"
    assert line["logger"] == "django.request"


@pytest.mark.django_db
def test_a_callers_request_id_is_kept_when_plain_and_replaced_when_not() -> None:
    kept = Client().get("/health", HTTP_X_REQUEST_ID="lb-1234.abc")
    assert kept["X-Request-ID"] == "lb-1234.abc"
    replaced = Client().get("/health", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert replaced["X-Request-ID"] != "bad id\nwith newline"
    assert len(replaced["X-Request-ID"]) == 32


def test_records_in_a_run_carry_its_execution_id(captured: _Capture) -> None:
    logger = logging.getLogger("django.request")
    with execution_context("run-42"):
        logger.warning("inside", extra={"node_id": "n1"})
    logger.warning("block", extra={"graph_exec_id": "run-43"})
    logger.warning("outside")
    inside, block, outside = captured.lines[-3:]
    assert (inside["execution_id"], inside["node_id"]) == ("run-42", "n1")
    assert block["execution_id"] == "run-43"
    assert outside["execution_id"] is None
    assert outside["request_id"] is None


def test_with_debug_off_logs_are_json_and_check_deploy_is_clean(tmp_path) -> None:
    env = {**_base_env(tmp_path), **PRODUCTION}
    checked = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no issues" in checked.stdout
    logged = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "import logging; logging.getLogger('ops').warning('hello %s', 'world')",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert logged.returncode == 0, logged.stderr
    line = json.loads(logged.stderr.strip().splitlines()[-1])
    assert (line["level"], line["logger"], line["message"]) == ("WARNING", "ops", "hello world")


def _base_env(tmp_path) -> dict[str, str]:
    from tests.processes import platform_env

    env = platform_env()
    env.pop("LOG_JSON", None)
    env["VAR_DIR"] = str(tmp_path)
    return env
