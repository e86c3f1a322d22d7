import json

import pytest
from django.test import Client
from django.urls import path
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from apps.executions.models import GraphExecution
from apps.graphs.models import Graph
from apps.users.models import User
from tests.graphs.graphs import INPUT, node

pytestmark = pytest.mark.django_db


class _Boom(APIView):
    def get(self, request):
        raise RuntimeError("secret internals: password=hunter2")


class _Echo(APIView):
    def post(self, request):
        return Response({"received": request.data})


urlpatterns = [path("api/test/boom", _Boom.as_view()), path("api/test/echo", _Echo.as_view())]


def _nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = {"a": value}
    return value


def test_an_unknown_api_path_is_a_404_envelope(owner_client: APIClient) -> None:
    response = owner_client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.json()["error"]["error_code"] == "NOT_FOUND"


def test_a_wrong_method_is_a_405_envelope(owner_client: APIClient) -> None:
    response = owner_client.delete("/api/user")
    assert response.status_code == 405
    assert response.json()["error"]["error_code"] == "METHOD_NOT_ALLOWED"


@pytest.mark.urls("tests.common.test_errors")
def test_an_unexpected_error_is_a_500_envelope_without_internals(owner: User) -> None:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(owner)
    response = client.get("/api/test/boom")
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["error_code"] == "SYSTEM_ERROR"
    assert "hunter2" not in response.content.decode()
    assert "RuntimeError" not in response.content.decode()


@pytest.mark.urls("tests.common.test_errors")
def test_json_within_the_limits_is_accepted(owner_client: APIClient) -> None:
    response = owner_client.post("/api/test/echo", _nested(30), format="json")
    assert response.status_code == 200


@pytest.mark.urls("tests.common.test_errors")
@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        (_nested(40), "nested too deeply"),
        ({"items": list(range(10_001))}, "too many items"),
    ],
)
def test_json_beyond_the_limits_is_a_400(
    owner_client: APIClient, document: object, fragment: str
) -> None:
    response = owner_client.post("/api/test/echo", document, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["error_code"] == "VALIDATION_ERROR"
    assert fragment in error["message"]


@pytest.mark.urls("tests.common.test_errors")
def test_json_deeper_than_the_parser_can_recurse_is_a_400(owner_client: APIClient) -> None:
    body = "[" * 100_000 + "]" * 100_000
    response = owner_client.post("/api/test/echo", body, content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "text",
    [r"a\u0000b", r"\ud800", r"\udc00 alone", r"\ud83d"],
    ids=["nul", "high-half", "low-half", "pair-cut-short"],
)
def test_text_the_database_cannot_store_is_a_400_and_stores_nothing(
    owner_client: APIClient, text: str
) -> None:
    """NUL and half a surrogate pair, as JSON escapes, anywhere in a body (here a node's
    metadata key and an execute input): PostgreSQL cannot store them."""
    graph = {"name": "G", "nodes": [node("in", INPUT, name="topic")], "links": []}
    body = json.dumps(graph).replace('"metadata": {}', f'"metadata": {{"{text}": 1}}')
    response = owner_client.post("/api/graphs", body, content_type="application/json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["error_code"] == "VALIDATION_ERROR"
    assert "cannot be stored" in error["message"]
    assert not Graph.objects.exists()

    created = owner_client.post("/api/graphs", graph, format="json").json()
    execute = f"/api/graphs/{created['id']}/execute"
    body = f'{{"inputs": {{"topic": "{text}"}}}}'
    response = owner_client.post(execute, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert not GraphExecution.objects.exists()


def test_characters_beyond_the_basic_plane_are_stored_whether_escaped_or_not(
    owner_client: APIClient,
) -> None:
    graph = {"name": "G", "nodes": [node("in", INPUT, name="topic")], "links": []}
    body = json.dumps(graph).replace('"G"', r'"\ud83e\udda6 and 🦦"')
    response = owner_client.post("/api/graphs", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "🦦 and 🦦"


@pytest.mark.parametrize(
    "path",
    [
        "/api/store/agents?search=%00",
        "/api/store/creators?search=a%00b",
        "/api/library/agents?search=%00",
        "/store?q=%00",
    ],
)
def test_a_nul_character_in_the_query_string_is_a_400(
    owner: User, owner_client: APIClient, path: str
) -> None:
    owner_client.force_login(owner)  # the dashboard's store page too
    response = owner_client.get(path)
    assert response.status_code == 400
    assert "NUL character" in response.json()["error"]["message"]
    assert owner_client.get(path.replace("%00", "%2500")).status_code == 200  # the text "%00"


@pytest.mark.urls("tests.common.test_errors")
def test_malformed_json_is_a_400(owner_client: APIClient) -> None:
    response = owner_client.post("/api/test/echo", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["error_code"] == "VALIDATION_ERROR"


def test_an_oversized_body_is_a_413_before_it_is_read(owner: User, settings) -> None:
    settings.MAX_REQUEST_BYTES = 2048
    client = Client()
    client.force_login(owner)
    body = json.dumps({"name": "x" * 4096})
    response = client.put("/api/user", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["error_code"] == "PAYLOAD_TOO_LARGE"
    owner.refresh_from_db()
    assert owner.name == "Alice"


@pytest.mark.parametrize("query", ["page=0", "page=abc", "page_size=101", "page_size=0"])
def test_bad_pagination_parameters_are_a_400(owner_client: APIClient, query: str) -> None:
    response = owner_client.get(f"/api/user/api-keys?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["error_code"] == "VALIDATION_ERROR"


def test_lists_have_the_pagination_shape(owner_client: APIClient) -> None:
    for name in ["a", "b", "c"]:
        owner_client.post(
            "/api/user/api-keys", {"name": name, "permissions": ["IDENTITY"]}, format="json"
        )
    body = owner_client.get("/api/user/api-keys?page=2&page_size=2").json()
    assert {k: body[k] for k in ["total", "page", "page_size", "total_pages"]} == {
        "total": 3,
        "page": 2,
        "page_size": 2,
        "total_pages": 2,
    }
    assert [key["name"] for key in body["data"]] == ["a"]
    # Past the end, however far: an empty page (a huge one once overflowed PostgreSQL's OFFSET).
    for page in [2, 919796149822857344]:
        body = owner_client.get(f"/api/executions?page={page}").json()
        assert (body["data"], body["total"], body["page"]) == ([], 0, page)
