"""Every dashboard page: status, content, empty states, errors, and never another user's data."""

import io
import json
from collections.abc import Iterator

import pytest
from django.test import Client

from apps.credits.models import AutoTopUpConfig
from apps.credits.selectors import credit_balance_get
from apps.credits.services import credit_apply
from apps.dashboard.presenters import pin_rows
from apps.executions.models import GraphExecution
from apps.graphs.blocks.library.maths import CalculatorBlock
from apps.graphs.blocks.registry import all_blocks
from apps.graphs.models import Graph, Preset
from apps.integrations.models import UploadedFile
from apps.users.models import APIKey, User
from apps.users.services import api_key_create
from tests.dashboard.helpers import make_graph, make_queued_run
from tests.graphs.graphs import INPUT, PRINT, echo_graph, link, node
from tests.stripe_server import StripeServer

pytestmark = pytest.mark.django_db


def _nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def _upload(document: object, name: str = "graph.json") -> io.BytesIO:
    data = io.BytesIO(document if isinstance(document, bytes) else json.dumps(document).encode())
    data.name = name
    return data


PAGES = [
    "/agents",
    "/runs",
    "/credits",
    "/settings/api-keys",
    "/settings/profile",
    "/blocks",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_asks_an_anonymous_visitor_to_sign_in(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(f"/login?next={path}")


@pytest.mark.parametrize(
    ("path", "empty"),
    [
        ("/agents", "No agents yet"),
        ("/runs", "No runs yet"),
        ("/credits", "No credits spent in the last 30 days"),
        ("/settings/api-keys", "No API keys yet"),
        ("/settings/profile", 'value="UTC" selected'),
    ],
)
def test_every_page_renders_its_empty_state(alice: Client, path: str, empty: str) -> None:
    response = alice.get(path)
    assert response.status_code == 200
    body = response.content.decode()
    assert f'href="{path}" aria-current="page"' in body
    assert empty in body


HUGE = "9" * 30


@pytest.mark.parametrize(
    "path",
    [
        "/agents?page=abc",
        f"/agents?page={HUGE}",
        "/runs?page=-1",
        f"/runs?page={HUGE}&status=bogus",
        "/runs?agent=not-a-uuid",
        "/runs?agent=00000000-0000-0000-0000-000000000000",
        f"/store?sort=bad&category=%ff&q={'x' * 5000}&page={HUGE}",
        "/store/submissions?status=zz&page=x",
        f"/library?page={HUGE}&q=%ff",
        "/notifications?page=1e9&unread=maybe",
        "/credits?page=abc",
        "/schedules/preview?cron=%ff&timezone=%ff",
        "/schedules/preview?cron=*+*+*+*+*&timezone=../../etc/passwd",
        "/store/nobody/nothing",
        "/agents/00000000-0000-0000-0000-000000000000",
        "/chat/00000000-0000-0000-0000-000000000000",
    ],
)
def test_odd_query_strings_and_unknown_ids_never_break_a_page(alice: Client, path: str) -> None:
    assert alice.get(path).status_code in (200, 400, 404)


def test_the_start_page_sends_signed_in_users_to_their_agents(alice: Client) -> None:
    assert alice.get("/")["Location"] == "/agents"
    assert b"Agents as graphs of blocks" in Client().get("/").content


def test_my_agents_lists_graphs_with_runs_last_run_and_success_rate(
    alice: Client, owner: User, other_user: User
) -> None:
    version = make_graph(owner, echo_graph("Otter facts"))
    make_graph(other_user, echo_graph("Bob's secret agent"))
    runs = [make_queued_run(owner, version) for _ in range(4)]
    GraphExecution.objects.filter(pk__in=[r.pk for r in runs[:3]]).update(status="completed")
    GraphExecution.objects.filter(pk=runs[3].pk).update(status="failed")
    body = alice.get("/agents").content.decode()
    assert "Otter facts" in body
    assert "Bob&#x27;s secret agent" not in body
    assert "Bob's secret agent" not in body
    assert "75%" in body
    assert f'href="/runs?agent={version.graph_id}">4</a>' in body


def test_my_agents_come_25_to_a_page_newest_first(alice: Client, owner: User) -> None:
    for n in range(27):
        make_graph(owner, echo_graph(f"Agent {n:02d}"))
    first = alice.get("/agents").content.decode()
    assert "Page 1 of 2" in first
    assert "Agent 26" in first
    assert "Agent 02" in first
    assert "Agent 01" not in first
    second = alice.get("/agents?page=2").content.decode()
    assert "Agent 01" in second
    assert "Agent 00" in second
    assert "Agent 02" not in second


def test_a_template_becomes_an_agent_of_ones_own(alice: Client, owner: User, staff: User) -> None:
    template = make_graph(staff, echo_graph("Starter"), is_template=True)
    assert "Create from template" in alice.get("/agents").content.decode()
    response = alice.post("/agents/from-template", {"template_id": str(template.graph_id)})
    mine = Graph.objects.get(user=owner)
    assert response["Location"] == f"/agents/{mine.id}"
    assert mine.forked_from_id == template.graph_id


def test_another_users_graph_cannot_be_used_as_a_template(alice: Client, other_user: User) -> None:
    private = make_graph(other_user)
    response = alice.post("/agents/from-template", {"template_id": str(private.graph_id)})
    assert response.status_code == 404
    assert not Graph.objects.filter(user__email="alice@example.com").exists()


def test_importing_a_graph_file_creates_the_agent(alice: Client, owner: User) -> None:
    response = alice.post("/agents/import", {"file": _upload(echo_graph("Imported"))})
    graph = Graph.objects.get(user=owner)
    assert response["Location"] == f"/agents/{graph.id}"
    assert graph.versions.get().name == "Imported"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        ([1, 2], "one JSON object"),
        (b'{"name": ' + b"[" * 100_000, "nested too deeply"),
        (
            {"name": "x", "nodes": [node("p", PRINT, text=_nested(40))], "links": []},
            "nested too deeply",
        ),
        (b'{"name": "x\\u0000", "nodes": [], "links": []}', "cannot be stored"),
        ({"nodes": []}, "name: This field is required."),
        (
            {"name": "x", "nodes": [{"block_id": "no-such-block"}], "links": []},
            "no-such-block",
        ),
        (
            {
                "name": "Broken link",
                "nodes": [node("in", INPUT, name="a"), node("p", PRINT)],
                "links": [link("in", "result", "ghost", "text")],
            },
            "ghost",
        ),
        (
            {
                "name": "Wrong pin",
                "nodes": [node("in", INPUT, name="a"), node("p", PRINT)],
                "links": [link("in", "result", "p", "no_such_pin")],
            },
            "Print (p): ",
        ),
    ],
)
def test_a_bad_import_file_gets_a_clear_error(
    alice: Client, owner: User, document: object, message: str
) -> None:
    response = alice.post("/agents/import", {"file": _upload(document)})
    assert response.status_code == 400
    body = response.content.decode()
    assert "could not be imported" in body
    assert message in body, body[body.find("import-errors") :][:800]
    assert not Graph.objects.filter(user=owner).exists()


def test_the_agent_page_draws_the_graph_and_builds_the_run_form(alice: Client, owner: User) -> None:
    version = make_graph(owner)
    body = alice.get(f"/agents/{version.graph_id}").content.decode()
    assert body.count('class="node status-idle"') == 3
    for block_name in ("Agent Input", "Print", "Agent Output"):
        assert block_name in body
    assert "<text x=" in body
    assert ">result</text>" in body
    assert ">text</text>" in body
    assert 'name="input__topic"' in body
    assert "Parallel branches" in body
    assert "No presets" in body


def test_another_users_agent_page_is_a_404(alice: Client, other_user: User) -> None:
    version = make_graph(other_user)
    assert alice.get(f"/agents/{version.graph_id}").status_code == 404
    assert alice.post(f"/agents/{version.graph_id}/run", {"input__topic": "x"}).status_code == 404
    assert alice.post(f"/agents/{version.graph_id}/versions/1/activate").status_code == 404


def test_the_run_form_starts_a_run_and_opens_its_page(alice: Client, owner: User) -> None:
    version = make_graph(owner)
    response = alice.post(f"/agents/{version.graph_id}/run", {"input__topic": "otters"})
    execution = GraphExecution.objects.get(user=owner)
    assert response["Location"] == f"/runs/{execution.id}"
    assert execution.inputs == {"topic": "otters"}


def test_a_missing_run_input_is_shown_next_to_the_form(alice: Client, owner: User) -> None:
    version = make_graph(owner)
    response = alice.post(f"/agents/{version.graph_id}/run", {})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not GraphExecution.objects.exists()


def test_a_run_with_an_empty_purse_says_so(alice: Client, owner: User) -> None:
    version = make_graph(owner)
    balance = credit_balance_get(user_id=owner.pk)
    credit_apply(user_id=owner.pk, amount=-balance, type="ADJUSTMENT", transaction_key="drain")
    response = alice.post(f"/agents/{version.graph_id}/run", {"input__topic": "x"})
    assert response.status_code == 400
    assert "Insufficient credits" in response.content.decode()


def test_presets_are_saved_run_and_deleted(alice: Client, owner: User) -> None:
    version = make_graph(owner)
    url = f"/agents/{version.graph_id}"
    alice.post(f"{url}/presets", {"input__topic": "owls", "save_preset": "", "preset_name": "Owls"})
    preset = Preset.objects.get(user=owner)
    assert preset.inputs == {"topic": "owls"}
    assert "Owls" in alice.get(url).content.decode()
    response = alice.post(f"{url}/presets/{preset.id}/run")
    assert GraphExecution.objects.get().inputs == {"topic": "owls"}
    assert response["Location"].startswith("/runs/")
    alice.post(f"{url}/presets/{preset.id}/delete")
    assert not Preset.objects.exists()


def test_another_users_preset_is_a_404(alice: Client, owner: User, other_user: User) -> None:
    version = make_graph(owner)
    theirs = make_graph(other_user)
    from apps.graphs.services import preset_create

    preset = preset_create(
        user=other_user,
        graph_id=theirs.graph_id,
        graph_version=1,
        name="Bob's",
        inputs={},
        credentials_inputs={},
    )
    url = f"/agents/{version.graph_id}/presets/{preset.id}"
    assert alice.post(f"{url}/delete").status_code == 404
    assert alice.post(f"{url}/run").status_code == 404
    assert not GraphExecution.objects.exists()
    assert Preset.objects.filter(pk=preset.pk).exists()


def test_an_older_version_can_be_made_active(alice: Client, owner: User) -> None:
    from apps.graphs.compile import graph_spec_from_payload
    from apps.graphs.services import graph_update

    version = make_graph(owner)
    payload = echo_graph("Echo two")
    graph_update(
        user=owner,
        graph_id=version.graph_id,
        name=payload["name"],
        spec=graph_spec_from_payload(payload["nodes"], payload["links"]),
    )
    body = alice.get(f"/agents/{version.graph_id}").content.decode()
    assert "Make active" in body
    assert "Echo two" in body
    alice.post(f"/agents/{version.graph_id}/versions/1/activate")
    assert version.graph.versions.get(is_active=True).version == 1


def test_the_run_page_shows_the_graph_with_node_statuses_and_a_stop_button(
    alice: Client, owner: User
) -> None:
    execution = make_queued_run(owner, make_graph(owner))
    body = alice.get(f"/runs/{execution.id}").content.decode()
    assert 'data-node="in"' in body
    assert 'class="node status-queued"' in body
    assert 'id="stop-button"' in body
    assert "Outputs appear here when the run finishes." in body
    assert 'data-page="run"' in body


def test_the_run_page_truncates_large_values_and_lists_outputs(alice: Client, owner: User) -> None:
    execution = make_queued_run(owner, make_graph(owner), topic="x" * 5000)
    GraphExecution.objects.filter(pk=execution.pk).update(
        status="completed", outputs={"answer": ["y" * 3000]}
    )
    body = alice.get(f"/runs/{execution.id}").content.decode()
    assert "more characters" in body
    assert "x" * 5000 not in body
    assert "<h3>answer</h3>" in body
    assert 'id="stop-form" hidden' in body


def test_another_users_run_is_a_404_and_cannot_be_stopped(alice: Client, other_user: User) -> None:
    execution = make_queued_run(other_user, make_graph(other_user))
    assert alice.get(f"/runs/{execution.id}").status_code == 404
    assert alice.post(f"/runs/{execution.id}/stop").status_code == 404
    execution.refresh_from_db()
    assert execution.status == "queued"


def test_stop_cancels_a_queued_run(alice: Client, owner: User) -> None:
    execution = make_queued_run(owner, make_graph(owner))
    assert alice.post(f"/runs/{execution.id}/stop")["Location"] == f"/runs/{execution.id}"
    execution.refresh_from_db()
    assert execution.status == "cancelled"


def test_the_run_list_filters_by_status_and_agent(
    alice: Client, owner: User, other_user: User
) -> None:
    first, second = make_graph(owner, echo_graph("First")), make_graph(owner, echo_graph("Second"))
    done = make_queued_run(owner, first)
    GraphExecution.objects.filter(pk=done.pk).update(status="completed")
    waiting = make_queued_run(owner, second)
    theirs = make_queued_run(other_user, make_graph(other_user))
    body = alice.get("/runs").content.decode()
    assert str(done.id)[:8] in body
    assert str(waiting.id)[:8] in body
    assert str(theirs.id)[:8] not in body
    assert f'data-run="{waiting.id}" data-graph="{second.graph_id}" data-live' in body
    # The page follows runs of both agents (static/js/live.js), and new ones of any status.
    live_graphs = f'data-graphs="{second.graph_id} {first.graph_id}" data-new-runs=""'
    assert live_graphs in body
    filtered = alice.get("/runs?status=completed").content.decode()
    assert str(done.id)[:8] in filtered
    assert str(waiting.id)[:8] not in filtered
    assert 'data-new-runs="completed"' in filtered
    by_agent = alice.get(f"/runs?agent={second.graph_id}").content.decode()
    assert str(waiting.id)[:8] in by_agent
    assert str(done.id)[:8] not in by_agent
    assert f'data-graphs="{second.graph_id}" data-new-runs=""' in by_agent
    assert "No runs match these filters" in alice.get("/runs?status=timeout").content.decode()
    assert alice.get(f"/runs?agent={theirs.graph_id}").status_code == 404


def test_credits_show_balance_transactions_and_the_usage_chart(
    alice: Client, owner: User, other_user: User
) -> None:
    execution = make_queued_run(owner, make_graph(owner))
    credit_apply(
        user_id=owner.pk,
        amount=-7,
        type="USAGE",
        transaction_key="node:1",
        graph_exec_id=execution.id,
        description="Echo",
    )
    credit_apply(user_id=other_user.pk, amount=-3, type="USAGE", transaction_key="bob")
    response = alice.get("/credits")
    body = response.content.decode()
    assert response.context["balance"] == credit_balance_get(user_id=owner.pk)
    assert f'id="balance">{credit_balance_get(user_id=owner.pk)} ' in body
    assert response.context["chart"].total == 7
    assert '<polyline points="' in body
    assert f'href="/runs/{execution.id}"' in body
    assert "Top up" not in body
    assert 'id="top-up-off"' in body


def test_every_page_has_a_skip_link_a_menu_button_and_an_icon(
    alice: Client, client: Client
) -> None:
    for page_client, path in ((alice, "/agents"), (client, "/login")):
        body = page_client.get(path).content.decode()
        assert '<a class="skip-link" href="#main">' in body
        assert '<main id="main" tabindex="-1">' in body
        assert 'aria-controls="site-menu"' in body
        assert 'rel="icon" href="/static/favicon.svg"' in body
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/favicon.svg"


def test_run_forms_show_the_nodes_description_not_the_blocks_pin_text(
    alice: Client, owner: User
) -> None:
    graph = make_graph(
        owner,
        {
            "name": "Two inputs",
            "nodes": [
                node("i", INPUT, name="topic"),
                node("j", INPUT, name="tone", description="Calm?"),
            ],
            "links": [],
        },
    )
    body = alice.get(f"/agents/{graph.graph_id}").content.decode()
    assert "Filled from the run" not in body
    assert "Calm?" in body


def test_the_top_up_button_appears_when_payments_are_configured(alice: Client, settings) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_x"
    assert "Top up" in alice.get("/credits").content.decode()


def test_an_api_key_is_shown_once_then_revoked(alice: Client, owner: User) -> None:
    response = alice.post(
        "/settings/api-keys", {"name": "CI", "permissions": ["READ_GRAPH", "EXECUTE_GRAPH"]}
    )
    assert response["Location"] == "/settings/api-keys"
    first = alice.get("/settings/api-keys").content.decode()
    key = APIKey.objects.get(user=owner)
    assert "agpt_" in first
    assert "shown only this once" in first
    assert "shown only this once" not in alice.get("/settings/api-keys").content.decode()
    alice.post(f"/settings/api-keys/{key.id}/revoke")
    key.refresh_from_db()
    assert key.status == "REVOKED"


def test_an_api_key_needs_a_name_and_permissions(alice: Client) -> None:
    response = alice.post("/settings/api-keys", {"name": ""})
    assert response.status_code == 400
    assert not APIKey.objects.exists()


def test_another_users_api_key_cannot_be_revoked(alice: Client, other_user: User) -> None:
    key, _ = api_key_create(user=other_user, name="Bob's", permissions=["IDENTITY"])
    assert alice.post(f"/settings/api-keys/{key.id}/revoke").status_code == 404
    key.refresh_from_db()
    assert key.status == "ACTIVE"
    assert "Bob&#x27;s" not in alice.get("/settings/api-keys").content.decode()


def test_the_profile_saves_name_and_time_zone(alice: Client, owner: User) -> None:
    response = alice.post("/settings/profile", {"name": "Alice L.", "timezone": "Europe/Paris"})
    assert response["Location"] == "/settings/profile"
    owner.refresh_from_db()
    assert (owner.name, owner.timezone) == ("Alice L.", "Europe/Paris")
    bad = alice.post("/settings/profile", {"name": "A", "timezone": "Mars/Olympus"})
    assert bad.status_code == 400


def test_long_names_do_not_break_the_agent_list(alice: Client, owner: User) -> None:
    make_graph(owner, {**echo_graph("N" * 100), "description": "word " * 100})
    body = alice.get("/agents").content.decode()
    assert "N" * 100 in body
    assert 'class="muted clamp"' in body


def test_staff_see_the_admin_link_and_the_styled_admin(staff: User) -> None:
    client = Client()
    client.force_login(staff)
    assert 'href="/admin/"' in client.get("/agents").content.decode()
    admin = client.get("/admin/").content.decode()
    assert "css/admin.css" in admin
    assert 'href="/agents">Dashboard' in admin


def test_non_staff_get_no_admin_link(alice: Client) -> None:
    assert 'href="/admin/"' not in alice.get("/agents").content.decode()


def test_a_nav_item_with_a_badge_shows_its_count_on_every_page(
    alice: Client, owner: User, monkeypatch
) -> None:
    from apps.dashboard import nav

    counted: list[User] = []

    def unread(user: User) -> int:
        counted.append(user)
        return 4

    item = nav.NavItem("runs", "Runs", "dashboard:runs", badge=unread)
    monkeypatch.setattr(nav, "NAV", (*nav.NAV, item))
    body = alice.get("/credits").content.decode()
    assert 'data-nav-badge="runs">4</span>' in body
    assert counted == [owner]


def test_a_stop_from_the_page_script_answers_json_without_a_flash_message(
    alice: Client, owner: User
) -> None:
    execution = make_queued_run(owner, make_graph(owner))
    response = alice.post(f"/runs/{execution.id}/stop", headers={"X-Requested-With": "fetch"})
    assert response.json() == {"status": "cancelled"}
    assert "Stop requested" not in alice.get("/runs").content.decode()


@pytest.fixture
def stripe(settings) -> Iterator[StripeServer]:
    server = StripeServer().start()
    settings.STRIPE_SECRET_KEY = "sk_test_local"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test"
    settings.STRIPE_API_BASE = server.url
    yield server
    server.stop()


def test_the_top_up_button_opens_stripe_checkout(
    alice: Client, owner: User, stripe: StripeServer
) -> None:
    response = alice.post("/credits/top-up", {"amount": "1500"})
    (session,) = stripe.sessions.values()
    assert response["Location"] == session["url"]
    (request,) = stripe.requests_to("POST", "/v1/checkout/sessions")
    assert request.params["metadata"] == {"user_id": str(owner.pk), "credits": "1500"}


def test_a_top_up_amount_the_platform_refuses_is_shown_on_the_form(
    alice: Client, stripe: StripeServer
) -> None:
    response = alice.post("/credits/top-up", {"amount": "120"})
    assert response.status_code == 400
    assert "at least" in response.content.decode()
    assert not stripe.sessions


def test_returning_from_checkout_lands_on_credits_with_a_message(alice: Client) -> None:
    response = alice.get("/?top_up=success", follow=True)
    assert response.redirect_chain[-1][0] == "/credits"
    assert "appear as soon as the payment is confirmed" in response.content.decode()


def test_the_block_catalogue_lists_searches_and_prices_every_block(alice: Client) -> None:
    body = alice.get("/blocks").content.decode()
    assert f"The {len(all_blocks())} building blocks" in body
    assert body.count('class="card block-entry"') == len(all_blocks())
    assert 'href="/blocks" aria-current="page"' in body
    # Every word must appear; the count says how many matched.
    body = alice.get("/blocks?q=fill+template").content.decode()
    assert "Fill Text Template" in body
    assert 'id="block-count" role="status">1 block matches' in body
    body = alice.get("/blocks?category=ai").content.decode()
    assert "AI Text Generator" in body
    assert "Fill Text Template" not in body
    assert "needs OpenAI-compatible API credentials" in body
    assert "1 credit a run when model is gpt-4o-mini" in body
    assert "No block matches" in alice.get("/blocks?q=zzzz-no-such").content.decode()
    # An unknown category is ignored rather than an error.
    body = alice.get("/blocks?category=nope").content.decode()
    assert body.count('class="card block-entry"') == len(all_blocks())


def test_pins_are_described_in_words() -> None:
    rows = {row.name: row for row in pin_rows(CalculatorBlock.input_schema())}
    assert rows["operation"].kind.startswith("one of ")
    assert rows["a"].kind == "number"
    schema = {
        "properties": {
            "tags": {"type": "array", "items": {"type": "string"}},
            "maybe": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            "key": {"type": "string", "secret": True},
        },
        "required": ["key"],
    }
    rows = {row.name: row for row in pin_rows(schema)}
    assert rows["tags"].kind == "list of text"
    assert rows["maybe"].kind == "whole number"
    assert rows["key"].secret
    assert rows["key"].required


def test_a_run_is_shared_by_a_public_page_then_unshared_and_deleted(
    alice: Client, bob: Client, owner: User
) -> None:
    execution = make_queued_run(owner, make_graph(owner, echo_graph("Otter echo")), "secret topic")
    GraphExecution.objects.filter(pk=execution.pk).update(
        status="completed", outputs={"result": ["Otters are great"]}
    )
    page = f"/runs/{execution.pk}"
    assert bob.post(f"{page}/share").status_code == 404
    alice.post(f"{page}/share", {"share": "on"})
    execution.refresh_from_db()
    public = f"/shared/{execution.share_token}"
    assert f"http://testserver{public}</code>" in alice.get(page).content.decode()

    response = Client().get(public)
    body = response.content.decode()
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex"
    assert "Otter echo" in body
    assert "Otters are great" in body
    assert "secret topic" not in body
    assert "alice" not in body.lower()

    alice.post(f"{page}/share", {"share": "off"})
    assert Client().get(public).status_code == 404
    assert Client().get("/shared/nope").status_code == 404

    assert bob.post(f"{page}/delete").status_code == 404
    response = alice.post(f"{page}/delete")
    assert response["Location"] == "/runs"
    assert alice.get(page).status_code == 404
    assert str(execution.pk)[:8] not in alice.get("/runs").content.decode()


def test_an_api_key_is_suspended_resumed_and_its_permissions_changed(
    alice: Client, bob: Client, owner: User
) -> None:
    api_key, plain = api_key_create(user=owner, name="CI", permissions=["READ_GRAPH"])
    base = f"/settings/api-keys/{api_key.pk}"
    assert 'value="suspend">Suspend</button>' in alice.get("/settings/api-keys").content.decode()
    alice.post(f"{base}/status", {"action": "suspend"})
    api_key.refresh_from_db()
    assert api_key.status == "SUSPENDED"
    api = Client(HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert api.get("/api/graphs").status_code == 401
    alice.post(f"{base}/status", {"action": "resume"})
    api_key.refresh_from_db()
    assert api_key.status == "ACTIVE"

    alice.post(f"{base}/permissions", {"permissions": ["READ_GRAPH", "EXECUTE_GRAPH"]})
    api_key.refresh_from_db()
    assert api_key.permissions == ["EXECUTE_GRAPH", "READ_GRAPH"]
    alice.post(f"{base}/permissions", {"permissions": []})
    api_key.refresh_from_db()
    assert api_key.permissions == ["EXECUTE_GRAPH", "READ_GRAPH"]
    assert "Choose at least one permission." in alice.get("/settings/api-keys").content.decode()

    assert bob.post(f"{base}/status", {"action": "suspend"}).status_code == 404
    assert bob.post(f"{base}/permissions", {"permissions": ["READ_GRAPH"]}).status_code == 404
    alice.post(f"{base}/revoke")
    alice.post(f"{base}/status", {"action": "resume"})
    assert "cannot become active" in alice.get("/settings/api-keys").content.decode()


def test_auto_top_up_is_set_on_the_credits_page_once_a_card_is_saved(
    alice: Client, owner: User, settings
) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_x"
    body = alice.get("/credits").content.decode()
    assert "Auto top-up: off" in body
    assert "top up once by card first" in body
    wanted = {"enabled": "on", "threshold": "100", "amount": "500"}
    response = alice.post("/credits/auto-top-up", wanted)
    assert response.status_code == 400
    assert "needs a saved card" in response.content.decode()

    AutoTopUpConfig.objects.create(
        user=owner, stripe_customer_id="cus_alice", payment_method_id="pm_card_visa"
    )
    response = alice.post("/credits/auto-top-up", {**wanted, "threshold": "500"})
    assert "below the top-up amount" in response.content.decode()
    assert alice.post("/credits/auto-top-up", wanted)["Location"] == "/credits"
    config = AutoTopUpConfig.objects.get(user=owner)
    assert (config.enabled, config.threshold, config.amount) == (True, 100, 500)
    assert "Auto top-up: on, 500 credits below 100" in alice.get("/credits").content.decode()
    alice.post("/credits/auto-top-up", {"threshold": "100", "amount": "500"})
    config.refresh_from_db()
    assert not config.enabled


def test_files_are_uploaded_listed_with_their_reference_and_deleted(
    alice: Client, bob: Client, owner: User, settings, tmp_path
) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "uploads": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    assert "No files yet." in alice.get("/settings/files").content.decode()
    response = alice.post("/settings/files", {"file": _upload(b"a,b\n1,2\n", "data.csv")})
    assert response["Location"] == "/settings/files"
    row = UploadedFile.objects.get(user=owner)
    body = alice.get("/settings/files").content.decode()
    assert f"file:{row.pk}</code>" in body
    assert "data.csv" in body

    # The page's script asks for JSON: the reference, or the reason it was refused.
    response = alice.post(
        "/settings/files", {"file": _upload(b"MZ", "tool.exe")}, HTTP_X_REQUESTED_WITH="fetch"
    )
    assert response.status_code == 400
    assert "not accepted" in response.json()["error"]
    response = alice.post(
        "/settings/files", {"file": _upload(b"hi", "note.txt")}, HTTP_X_REQUESTED_WITH="fetch"
    )
    assert response.status_code == 201
    assert response.json()["reference"].startswith("file:")

    assert bob.post(f"/settings/files/{row.pk}/delete").status_code == 404
    assert f"file:{row.pk}" not in bob.get("/settings/files").content.decode()
    alice.post(f"/settings/files/{row.pk}/delete")
    assert not UploadedFile.objects.filter(pk=row.pk).exists()
