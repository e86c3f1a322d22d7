"""`python manage.py builder_benchmark`: how fast the builder opens and saves a large agent
(SPEC §14: a 200-node agent interactive in under 1 s in Chromium, saved in under 300 ms of
server time). Measures a running platform (`make run`) with Debian's Chromium; prints medians.

Opening is timed from navigation start to the moment the island marks itself interactive
(blocks and graph fetched, nodes drawn: `window.__builderReadyAt`). Saving is the PUT's server
time as the browser's resource timing sees it (request sent → first response byte), and the
whole click-to-"Saved" time beside it."""

import json
import secrets
import statistics
from itertools import pairwise
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.graphs import services as graph_services
from apps.graphs.blocks.library.basic import AgentInputBlock, AgentOutputBlock
from apps.graphs.blocks.library.text import FillTemplateBlock
from apps.graphs.compile import graph_spec_from_payload
from apps.users.models import User
from apps.users.services import users_delete

CHROMIUM = "/usr/bin/chromium"
COLUMNS = 10


def chain_graph(nodes: int) -> dict[str, Any]:
    """Agent Input → (nodes - 2) Fill Text Templates in a chain → Agent Output, on a grid."""

    def at(index: int) -> dict[str, Any]:
        return {"position": {"x": (index % COLUMNS) * 340, "y": (index // COLUMNS) * 420}}

    keys = [f"n{index}" for index in range(nodes)]
    body = [
        {
            "id": key,
            "block_id": FillTemplateBlock.id,
            "input_default": {"format": f"{{{{ x }}}} {index}"},
            "metadata": at(index),
        }
        for index, key in enumerate(keys)
    ]
    body[0] = {**body[0], "block_id": AgentInputBlock.id, "input_default": {"name": "topic"}}
    body[-1] = {**body[-1], "block_id": AgentOutputBlock.id, "input_default": {"name": "out"}}
    links = [
        {
            "source_id": source,
            "source_name": "result" if index == 0 else "output",
            "sink_id": sink,
            "sink_name": "value" if sink == keys[-1] else "values_#_x",
        }
        for index, (source, sink) in enumerate(pairwise(keys))
    ]
    return {"name": f"Builder benchmark ({nodes} nodes)", "nodes": body, "links": links}


class Command(BaseCommand):
    help = "Measure opening and saving a large agent in the builder (Chromium, medians)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="the web process")
        parser.add_argument("--nodes", type=int, default=200, help="nodes in the agent")
        parser.add_argument("--runs", type=int, default=5, help="opens and saves measured")
        parser.add_argument("--json", action="store_true", help="print JSON instead of text")

    def handle(self, *args: object, **options: Any) -> None:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError as exc:  # a production image has no Playwright
            raise CommandError("Playwright is needed: pip install -r requirements-dev.txt") from exc
        password = secrets.token_urlsafe(16)
        user = User.objects.create_user(
            f"builder-benchmark-{secrets.token_hex(4)}@benchmark.invalid",
            password,
            name="Builder benchmark",
            is_staff=True,  # no rate limits: the figures measure the builder, not a throttle
        )
        try:
            payload = chain_graph(options["nodes"])
            version = graph_services.graph_create(
                user=user,
                name=payload["name"],
                description="",
                spec=graph_spec_from_payload(payload["nodes"], payload["links"]),
            )
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
                )
                try:
                    result = self._measure(
                        browser, options["url"], user.email, password, version.graph_id, options
                    )
                finally:
                    browser.close()
        finally:
            users_delete(user_ids=[user.pk])  # a run the builder started may still be going
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(
            f"{options['nodes']}-node agent, {options['runs']} runs (medians):\n"
            f"  open to interactive: {result['open_ms']:.0f} ms (target < 1000)\n"
            f"  save, server time:   {result['save_server_ms']:.0f} ms (target < 300)\n"
            f"  save, click to saved: {result['save_total_ms']:.0f} ms"
        )

    def _measure(self, browser, url, email, password, graph_id, options) -> dict[str, Any]:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.set_default_timeout(60_000)
        page.goto(f"{url}/login")
        page.fill("input[name=username]", email)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url("**/agents")
        opens, servers, totals = [], [], []
        for run in range(options["runs"]):
            page.goto(f"{url}/agents/{graph_id}/edit")
            page.wait_for_selector("body[data-builder-ready=true]", state="attached")
            opens.append(page.evaluate("window.__builderReadyAt"))
            nodes = page.locator(".react-flow__node").count()
            if nodes == 0:
                raise CommandError("the builder drew no nodes")
            page.fill("#agent-name", f"Builder benchmark {run}")
            started = page.evaluate("performance.now()")
            page.click("#save")
            page.wait_for_selector("#builder-banner >> text=Saved as version", timeout=60_000)
            totals.append(page.evaluate("performance.now()") - started)
            servers.append(
                page.evaluate(
                    """() => {
                      const puts = performance.getEntriesByType("resource")
                        .filter((entry) => /\\/api\\/graphs\\/[^/]+$/.test(entry.name));
                      const last = puts[puts.length - 1];
                      return last.responseStart - last.requestStart;
                    }"""
                )
            )
        page.close()
        return {
            "nodes": options["nodes"],
            "runs": options["runs"],
            "open_ms": statistics.median(opens),
            "save_server_ms": statistics.median(servers),
            "save_total_ms": statistics.median(totals),
            "open_ms_all": [round(value) for value in opens],
            "save_server_ms_all": [round(value) for value in servers],
        }
