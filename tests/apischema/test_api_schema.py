"""schemathesis over the live OpenAPI schema (`/api/schema/` of the real ASGI app): every
operation with generated valid and invalid input, as an all-permission API key and as a JWT.
Passing means no server error and every answer documented and shaped as the schema says.
Bounded by SCHEMATHESIS_EXAMPLES (CI sets it in `.ci/run`); skipped without it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from apps.credits.services import credit_grant
from apps.graphs import services as graph_services
from apps.graphs.compile import graph_spec_from_payload
from apps.users.models import APIKey, User
from apps.users.services import api_key_create
from tests.graphs.graphs import echo_graph

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "0"))
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "response_schema_conformance",
        "content_type_conformance",
    ]
)

pytestmark = [
    pytest.mark.skipif(not EXAMPLES, reason="runs with SCHEMATHESIS_EXAMPLES (CI)"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]


@pytest.fixture
def credentials(settings, owner: User) -> dict[str, str]:
    # The budgets are not under test (429 is documented on every operation anyway).
    settings.API_RATE_LIMITS = {scope: "1000000/minute" for scope in settings.API_RATE_LIMITS}
    credit_grant(user_id=owner.pk, amount=10_000, reason="schemathesis", granted_by="ci")
    payload = echo_graph()
    graph_services.graph_create(
        user=owner,
        name=payload["name"],
        description=payload["description"],
        spec=graph_spec_from_payload(payload["nodes"], payload["links"]),
    )
    _, key = api_key_create(
        user=owner, name="schemathesis", permissions=[p.value for p in APIKey.Permission]
    )
    return {
        "api_key": f"X-API-Key: {key}",
        "jwt": f"Authorization: Bearer {AccessToken.for_user(owner)}",
    }


def _schemathesis(asgi_server, header: str, report: Path) -> subprocess.CompletedProcess[str]:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{asgi_server.url}/api/schema/",
        "--checks",
        CHECKS,
        "--header",
        header,
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        "21",
        "--workers",
        "1",
        "--phases",
        "examples,coverage,fuzzing",
        "--request-timeout",
        "30",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
        "--no-color",
    ]
    # In the test's own directory: schemathesis keeps its example database in the working one.
    return subprocess.run(command, capture_output=True, text=True, timeout=1800, cwd=report.parent)


@pytest.mark.parametrize("auth", ["api_key", "jwt"])
def test_it_answers_every_operation_as_the_schema_says(
    asgi_server, credentials: dict[str, str], auth: str, tmp_path: Path
) -> None:
    result = _schemathesis(asgi_server, credentials[auth], tmp_path / "junit.xml")
    tail = "\n".join(result.stdout.splitlines()[-60:])
    print(tail)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
