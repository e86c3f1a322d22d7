"""The builder benchmark runs end to end (a small agent, one run: it is not a timed test)."""

import json
import re
from io import StringIO

import pytest
from django.core.management import call_command

from apps.graphs.models import Graph
from apps.users.models import User
from tests.dashboard.test_builder_browser import BUNDLE

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not BUNDLE.exists(), reason="the builder bundle is not built: make install"),
]


def test_it_opens_and_saves_an_agent_and_cleans_up(asgi_server) -> None:
    out = StringIO()
    call_command("builder_benchmark", url=asgi_server.url, nodes=12, runs=2, json=True, stdout=out)
    result = json.loads(out.getvalue())
    assert result["nodes"] == 12
    assert len(result["open_ms_all"]) == 2
    assert result["open_ms"] > 0
    assert result["save_server_ms"] > 0
    assert result["save_total_ms"] >= result["save_server_ms"]
    assert not User.objects.filter(email__startswith="builder-benchmark-").exists()
    assert not Graph.objects.exists()


def test_it_prints_medians_against_the_targets(asgi_server) -> None:
    out = StringIO()
    call_command("builder_benchmark", url=asgi_server.url, nodes=4, runs=1, stdout=out)
    assert re.search(r"open to interactive: \d+ ms \(target < 1000\)", out.getvalue())
    assert re.search(r"save, server time: +\d+ ms \(target < 300\)", out.getvalue())
