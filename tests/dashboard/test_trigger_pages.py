"""An agent's webhook triggers on the dashboard: address, secret shown once, the switch, preset
triggers and the call log, with the page's own curl example run against the real ASGI app."""

import html
import os
import re
import subprocess

import pytest
from django.test import Client

from apps.executions.models import GraphExecution
from apps.graphs.models import Preset
from apps.users.models import User
from apps.webhooks.models import Webhook
from tests.dashboard.helpers import make_graph
from tests.graphs.graphs import echo_graph
from tests.processes import wait_for
from tests.webhooks.helpers import webhook_graph

pytestmark = pytest.mark.django_db(transaction=True)


def _secret_on(page: str) -> str:
    return re.search(r'id="secret-value">([^<]+)</code>', page).group(1)


def test_it_shows_the_address_rotates_the_secret_once_and_the_example_call_works(
    worker, asgi_server, alice: Client, owner: User, settings
) -> None:
    settings.SITE_URL = asgi_server.url
    graph = make_graph(owner, webhook_graph("On push"))
    webhook = Webhook.objects.get(graph_id=graph.graph_id)
    path = f"/agents/{graph.graph_id}/triggers"
    assert f'href="{path}"' in alice.get(f"/agents/{graph.graph_id}").content.decode()

    page = alice.get(path).content.decode()
    assert f"{asgi_server.url}/api/webhooks/{webhook.pk}/ingress" in page
    assert "taking calls" in page
    assert "No calls yet." in page
    assert 'id="secret-value"' not in page

    response = alice.post(f"{path}/{webhook.pk}/rotate")
    assert response["Location"] == path
    page = alice.get(path).content.decode()
    secret = _secret_on(page)
    assert len(secret) >= 32
    assert 'id="secret-value"' not in alice.get(path).content.decode()

    # The page's own example, run as a sender would run it.
    example = html.unescape(re.search(r'<pre class="value">(.*?)</pre>', page, re.S).group(1))
    done = subprocess.run(
        ["bash", "-c", example + " -s -o /dev/null -w '%{http_code}'"],
        env={**os.environ, "SECRET": secret},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.stdout == "202", done.stderr
    run = wait_for(
        lambda: GraphExecution.objects.filter(graph_id=graph.graph_id, status="completed").first(),
        timeout=30,
        what="the webhook's run to complete",
    )
    assert run.inputs["webhook"]["body"] == {"topic": "otters"}
    page = alice.get(path).content.decode()
    assert f'<a href="/runs/{run.pk}">completed</a>' in page
    assert ">202</span>" in page


def test_it_turns_a_trigger_off_and_makes_a_preset_a_trigger(
    alice: Client, bob: Client, owner: User
) -> None:
    graph = make_graph(owner, webhook_graph("On push"))
    webhook = Webhook.objects.get(graph_id=graph.graph_id)
    path = f"/agents/{graph.graph_id}/triggers"
    alice.post(f"{path}/{webhook.pk}/toggle")
    webhook.refresh_from_db()
    assert not webhook.enabled
    assert ">off</span>" in alice.get(path).content.decode()

    preset = Preset.objects.create(
        user=owner, graph_id=graph.graph_id, graph_version=1, name="Nightly", inputs={}
    )
    assert "Make it a trigger" in alice.get(path).content.decode()
    alice.post(f"{path}/from-preset/{preset.pk}")
    page = alice.get(path).content.decode()
    assert "Preset “Nightly”" in page
    assert _secret_on(page)
    assert "Make it a trigger" not in page
    # Twice is a conflict, said as a message, not an error page.
    alice.post(f"{path}/from-preset/{preset.pk}")
    assert "already a trigger" in alice.get(path).content.decode()

    # Bob sees none of it and can change none of it.
    assert bob.get(path).status_code == 404
    assert bob.post(f"{path}/{webhook.pk}/rotate").status_code == 404
    assert bob.post(f"{path}/{webhook.pk}/toggle").status_code == 404
    assert bob.post(f"{path}/from-preset/{preset.pk}").status_code == 404


def test_an_agent_without_a_webhook_node_says_how_to_get_a_trigger(
    alice: Client, owner: User
) -> None:
    graph = make_graph(owner, echo_graph())
    page = alice.get(f"/agents/{graph.graph_id}/triggers").content.decode()
    assert "No triggers" in page
    assert "Add a Webhook Trigger node" in page
