"""The seed's example API client (02-platform-manual.txt §1.2.2) against the real server."""

import asyncio

import httpx
import pytest

from apps.executions.models import GraphExecution
from apps.users.services import api_key_create
from tests.factories import UserFactory
from tests.processes import wait_for


class AutoGPTClient:
    """The seed's client, as the manual gives it: Bearer API key, JSON, raise_for_status."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
        self.client = httpx.AsyncClient(headers=self.headers)

    async def create_graph(self, graph_data: dict) -> dict:
        response = await self.client.post(f"{self.base_url}/api/graphs", json=graph_data)
        response.raise_for_status()
        return response.json()

    async def execute_graph(
        self, graph_id: str, inputs: dict, graph_version: int | None = None
    ) -> dict:
        url = f"{self.base_url}/api/graphs/{graph_id}/execute"
        if graph_version:
            url += f"/{graph_version}"
        response = await self.client.post(url, json={"inputs": inputs, "credentials_inputs": {}})
        response.raise_for_status()
        return response.json()


@pytest.mark.django_db(transaction=True)
def test_the_seed_client_creates_and_runs_a_graph_with_an_api_key(worker, asgi_server) -> None:
    user = UserFactory()
    _, key = api_key_create(
        user=user, name="client", permissions=["READ_GRAPH", "WRITE_GRAPH", "EXECUTE_GRAPH"]
    )
    # The manual's graph shape; its LLM node needs a provider, so the text goes to an Output.
    graph_data = {
        "name": "API创建的文本摘要流程",
        "description": "通过API创建的示例工作流",
        "nodes": [
            {
                "id": "text_input",
                "block_id": "text_input_block",
                "input_default": {},
                "metadata": {"position": {"x": 0, "y": 0}},
            },
            {
                "id": "summary",
                "block_id": "363ae599-353e-4804-937e-b2ee3cef3da4",
                "input_default": {"name": "summary", "format": "摘要: {{ value }}"},
                "metadata": {"position": {"x": 200, "y": 0}},
            },
        ],
        "links": [
            {
                "source_id": "text_input",
                "sink_id": "summary",
                "source_name": "text",
                "sink_name": "value",
            }
        ],
    }

    async def main() -> tuple[dict, dict]:
        client = AutoGPTClient(base_url=asgi_server.url, api_key=key)
        graph = await client.create_graph(graph_data)
        execution = await client.execute_graph(graph_id=graph["id"], inputs={"text": "长文本"})
        await client.client.aclose()
        return graph, execution

    graph, execution = asyncio.run(main())
    assert graph["name"] == "API创建的文本摘要流程"
    run = wait_for(
        lambda: GraphExecution.objects.filter(pk=execution["id"], status="completed").first(),
        timeout=30,
        what="the client's run to complete",
    )
    assert run.outputs == {"summary": ["摘要: 长文本"]}
