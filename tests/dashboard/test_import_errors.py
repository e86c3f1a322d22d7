"""The dashboard's import and `POST /api/graphs/import` are one service: the same bad file
gets the same errors from both, naming the file's own node ids."""

import html
import io
import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.graphs.models import Graph
from apps.users.models import User
from tests.graphs.graphs import INPUT, PRINT, link, node

pytestmark = pytest.mark.django_db

BAD_FILE = {
    "name": "Broken",
    "description": "",
    "nodes": [node("in", INPUT, name="a"), node("p", PRINT), {"id": "x", "block_id": "nope"}],
    "links": [link("in", "result", "p", "no_such_pin"), link("in", "result", "ghost", "text")],
}


def test_the_same_bad_file_gets_the_same_errors_from_the_api_and_the_page(
    owner_client: APIClient, alice: Client, owner: User
) -> None:
    api = owner_client.post("/api/graphs/import", BAD_FILE, format="json")
    assert api.status_code == 400
    node_errors = api.json()["error"]["details"]["node_errors"]
    # The file's own ids, not the ids an import gives the nodes.
    assert {"p", "x"} <= set(node_errors)
    assert set(node_errors) <= {"in", "p", "x", "ghost", "graph"}

    upload = io.BytesIO(json.dumps(BAD_FILE).encode())
    upload.name = "graph.json"
    page = alice.post("/agents/import", {"file": upload})
    assert page.status_code == 400
    body = html.unescape(page.content.decode())
    for node_id, pins in node_errors.items():
        for pin, message in pins.items():
            line = f"{pin}: {message}"
            where = {"Graph: "} if node_id == "graph" else {f"({node_id}): ", f"Node {node_id}: "}
            assert any(f"{prefix}{line}" in body for prefix in where), (node_id, line)
    assert not Graph.objects.filter(user=owner).exists()
