import os
import subprocess
import sys

import pytest
from django.core.checks import run_checks

from tests.processes import ROOT

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 64 + "-a-long-random-production-secret-value",
    "ALLOWED_HOSTS": "agents.example.com",
    # Production needs a key for stored provider credentials (apps.integrations.checks).
    "ENCRYPTION_KEY": "0ytvxOMzirZK_aq6ETCMnFXosr8fEhx2KLYoO5OOBpU=",
}


def _error_ids() -> set[str]:
    return {message.id for message in run_checks() if message.id.startswith("autogpt.")}


def test_debug_on_a_public_host_is_refused(settings) -> None:
    settings.DEBUG = True
    settings.ALLOWED_HOSTS = ["localhost", "agents.example.com"]
    assert "autogpt.E001" in _error_ids()


def test_the_development_secret_key_is_refused_in_production(settings) -> None:
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["agents.example.com"]
    settings.SECRET_KEY = settings.DEV_SECRET_KEY
    assert _error_ids() == {"autogpt.E002"}


def test_an_empty_allowed_hosts_is_refused_in_production(settings) -> None:
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = []
    settings.SECRET_KEY = PRODUCTION_ENV["SECRET_KEY"]
    assert _error_ids() == {"autogpt.E003"}


def test_local_development_passes(settings) -> None:
    settings.DEBUG = True
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
    assert _error_ids() == set()


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_platform_refuses_to_start_misconfigured() -> None:
    result = _manage("check", env={**PRODUCTION_ENV, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "autogpt.E002" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [("DEBUG", "maybe"), ("MAX_REQUEST_BYTES", "lots"), ("WORKER_POOL", "gevent")],
)
def test_a_malformed_variable_stops_start_up_with_its_name(name: str, value: str) -> None:
    result = _manage("check", env={name: value})
    assert result.returncode != 0
    assert name in result.stderr


def test_it_refuses_an_unreadable_block_http_allow_list_entry(settings) -> None:
    settings.BLOCK_HTTP_ALLOWED_HOSTS = ["localhost:5432", "10.0.0.5:9000-9100", "[::1]:8080"]
    assert "autogpt.E004" not in _error_ids()
    settings.BLOCK_HTTP_ALLOWED_HOSTS = ["localhost:99999"]
    assert "autogpt.E004" in _error_ids()
