import pytest
from rest_framework.test import APIClient

from apps.graphs.blocks.library.basic import AgentOutputBlock, NoteBlock, PrintBlock
from apps.graphs.blocks.registry import all_blocks
from apps.users.models import User
from apps.users.services import api_key_create

pytestmark = pytest.mark.django_db


def test_it_lists_blocks_with_their_schemas(owner_client: APIClient) -> None:
    body = owner_client.get("/api/blocks?page_size=100").json()
    assert body["total"] == len(all_blocks())
    by_name = {block["name"]: block for block in body["data"]}
    printer = by_name["Print"]
    assert printer["id"] == PrintBlock.id
    assert "text" in printer["input_schema"]["properties"]
    assert set(printer["output_schema"]["properties"]) == {"output", "error"}
    assert printer["costs"] == []


def test_it_filters_blocks_by_category_and_search(owner_client: APIClient) -> None:
    outputs = owner_client.get("/api/blocks?category=output").json()["data"]
    assert "Agent Output" in {block["name"] for block in outputs}
    assert all("OUTPUT" in block["categories"] for block in outputs)
    assert "Print" not in {block["name"] for block in outputs}
    found = owner_client.get("/api/blocks?search=sticky").json()["data"]
    assert [block["id"] for block in found] == [NoteBlock.id]


def test_it_shows_one_block_by_id_or_alias(owner_client: APIClient) -> None:
    assert owner_client.get(f"/api/blocks/{AgentOutputBlock.id}").json()["name"] == "Agent Output"
    assert owner_client.get("/api/blocks/text_input_block").json()["name"] == "Text Input"
    assert owner_client.get("/api/blocks/nope").status_code == 404


def test_it_executes_a_block_and_returns_values_per_pin(owner_client: APIClient) -> None:
    response = owner_client.post(
        f"/api/blocks/{AgentOutputBlock.id}/execute",
        {"name": "total", "value": 7, "format": "{{ value * 6 }}"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json() == {"output": ["42"], "name": ["total"]}


def test_a_block_error_comes_back_on_the_error_pin(owner_client: APIClient) -> None:
    response = owner_client.post(
        f"/api/blocks/{AgentOutputBlock.id}/execute",
        {"name": "x", "value": 1, "format": "{{ value.__class__.__mro__ }}"},
        format="json",
    )
    assert response.status_code == 200
    assert "format template failed" in response.json()["error"][0]


def test_bad_block_input_is_a_400_naming_the_pin(owner_client: APIClient) -> None:
    response = owner_client.post(
        f"/api/blocks/{PrintBlock.id}/execute", {"txt": "typo"}, format="json"
    )
    assert response.status_code == 400
    fields = response.json()["error"]["details"]["fields"]
    assert set(fields) == {"text", "txt"}


def test_notes_are_not_executed(owner_client: APIClient) -> None:
    response = owner_client.post(
        f"/api/blocks/{NoteBlock.id}/execute", {"text": "x"}, format="json"
    )
    assert response.status_code == 400


def test_block_endpoints_check_api_key_permissions(owner: User) -> None:
    _, reader = api_key_create(user=owner, name="r", permissions=["READ_BLOCK"])
    client = APIClient(HTTP_X_API_KEY=reader)
    assert client.get("/api/blocks").status_code == 200
    denied = client.post(f"/api/blocks/{PrintBlock.id}/execute", {"text": "x"}, format="json")
    assert denied.status_code == 403
    _, runner = api_key_create(user=owner, name="x", permissions=["EXECUTE_BLOCK"])
    allowed = APIClient(HTTP_X_API_KEY=runner).post(
        f"/api/blocks/{PrintBlock.id}/execute", {"text": "x"}, format="json"
    )
    assert allowed.json() == {"output": ["x"]}
