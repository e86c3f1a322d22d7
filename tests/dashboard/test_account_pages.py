"""The agent page's schedules card and credentials choice, notifications (list, mark read,
read all, the unread badge), notification preferences, credentials and chat pages."""

import itertools
import re
import uuid
import zoneinfo
from datetime import UTC, datetime

import pytest
from django.test import Client

from apps.chat.models import ChatSession
from apps.dashboard.templatetags.dashboard import notification_url
from apps.executions.models import GraphExecution
from apps.graphs.blocks.library.ai import AITextGeneratorBlock
from apps.graphs.models import Preset
from apps.integrations import services as integration_services
from apps.integrations.models import Credential
from apps.notifications import services as notification_services
from apps.notifications.models import Notification
from apps.schedules import cron
from apps.schedules.models import Schedule
from apps.users.models import User
from tests.dashboard.helpers import make_graph
from tests.graphs.graphs import INPUT, OUTPUT, echo_graph, link, node

pytestmark = pytest.mark.django_db
SECRET = "sk-alice-very-secret-0123456789"


def _llm_graph() -> dict:
    return {
        "name": "Ask the model",
        "nodes": [
            node("in", INPUT, name="topic"),
            node("llm", AITextGeneratorBlock.id),
            node("out", OUTPUT, name="answer"),
        ],
        "links": [link("in", "result", "llm", "prompt"), link("llm", "response", "out", "value")],
    }


# --- schedules -------------------------------------------------------------------------------


def test_a_schedule_is_created_from_the_run_forms_inputs_paused_resumed_and_deleted(
    owner: User, alice: Client, bob: Client
) -> None:
    version = make_graph(owner, echo_graph("Otter echo"))
    page = alice.get(f"/agents/{version.graph_id}").content.decode()
    assert "No schedules" in page
    assert 'name="cron"' in page
    assert 'form="run-form"' in page
    assert page.count("<li>") >= 5  # the cron helper's first answer is rendered by the server

    data = {
        "input__topic": "otters",
        "schedule_name": "Mornings",
        "cron": "0 9 * * 1-5",
        "timezone": "Europe/Berlin",
        "save_schedule": "",
    }
    response = alice.post(f"/agents/{version.graph_id}/schedules?version=1", data)
    assert response.status_code == 302
    assert response["Location"].endswith("#schedules")
    schedule = Schedule.objects.get()
    assert (schedule.inputs, schedule.cron, schedule.timezone) == (
        {"topic": "otters"},
        "0 9 * * 1-5",
        "Europe/Berlin",
    )
    assert not GraphExecution.objects.exists()
    page = alice.get(f"/agents/{version.graph_id}").content.decode()
    assert re.search(r"next \w{3} \d+ \w{3} \d{4}, 09:00 CES?T", page), "shown in its own zone"
    assert "Mornings" in page
    assert "next " in page
    assert "Pause" in page

    assert bob.post(f"/schedules/{schedule.pk}/toggle").status_code == 404
    alice.post(f"/schedules/{schedule.pk}/toggle")
    assert not Schedule.objects.select_related("periodic_task").get().is_enabled
    assert "paused" in alice.get(f"/agents/{version.graph_id}").content.decode()
    alice.post(f"/schedules/{schedule.pk}/toggle")
    assert Schedule.objects.select_related("periodic_task").get().is_enabled

    assert bob.post(f"/schedules/{schedule.pk}/delete").status_code == 404
    alice.post(f"/schedules/{schedule.pk}/delete")
    assert not Schedule.objects.exists()


def test_a_bad_cron_or_missing_inputs_are_named_on_the_page(owner: User, alice: Client) -> None:
    version = make_graph(owner, echo_graph("Otter echo"))
    url = f"/agents/{version.graph_id}/schedules"
    data = {"schedule_name": "x", "timezone": "UTC", "save_schedule": "", "input__topic": "o"}
    response = alice.post(url, {**data, "cron": "61 * * * *"})
    assert response.status_code == 400
    assert "Invalid cron expression" in response.content.decode()
    response = alice.post(url, {**data, "cron": "* * *"})
    assert "cron must have five fields" in response.content.decode()
    response = alice.post(url, {**data, "cron": "0 9 * * *", "input__topic": ""})
    assert response.status_code == 400
    assert not Schedule.objects.exists()


def test_the_cron_helper_gives_the_next_five_runs_from_the_schedules_logic(
    alice: Client,
) -> None:
    response = alice.get("/schedules/preview", {"cron": "0 9 * * *", "timezone": "Europe/Berlin"})
    assert response.status_code == 200
    body = response.json()
    times = [datetime.fromisoformat(t) for t in body["next"]]
    assert len(times) == 5
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    assert all(t.astimezone(berlin).hour == 9 for t in times)
    assert times[0] == cron.next_run_time("0 9 * * *", "Europe/Berlin")
    assert all(
        (b - a).total_seconds() in (82800, 86400, 90000) for a, b in itertools.pairwise(times)
    )
    assert times[0] > datetime.now(UTC)

    bad = alice.get("/schedules/preview", {"cron": "0 25 * * *", "timezone": "UTC"})
    assert bad.status_code == 400
    assert "Invalid cron" in bad.json()["error"]
    bad = alice.get("/schedules/preview", {"cron": "0 9 * * *", "timezone": "Mars/Base"})
    assert bad.status_code == 400
    assert "IANA" in bad.json()["error"]


# --- credentials in the run form --------------------------------------------------------------


def test_the_run_form_offers_the_users_credentials_for_the_graphs_providers(
    owner: User, other_user: User, alice: Client
) -> None:
    mine = integration_services.credential_create(
        user=owner, provider="openai", title="My OpenAI", api_key=SECRET
    )
    integration_services.credential_create(
        user=other_user, provider="openai", title="Bob's key", api_key="sk-bob-0123456789"
    )
    version = make_graph(owner, _llm_graph())
    page = alice.get(f"/agents/{version.graph_id}").content.decode()
    assert 'name="credentials__openai"' in page
    assert "Credential for OpenAI-compatible API" in page
    assert "My OpenAI" in page
    assert "Bob's key" not in page
    assert SECRET not in page
    # An echo graph uses no provider: no credentials field.
    echo = make_graph(owner, echo_graph())
    assert "credentials__" not in alice.get(f"/agents/{echo.graph_id}").content.decode()

    response = alice.post(
        f"/agents/{version.graph_id}/presets",
        {"input__topic": "otters", "credentials__openai": str(mine.pk), "save_preset": "",
         "preset_name": "With my key"},
    )  # fmt: skip
    assert response.status_code == 302
    assert Preset.objects.get().credentials_inputs == {"openai": str(mine.pk)}
    response = alice.post(
        f"/agents/{version.graph_id}/run",
        {"input__topic": "otters", "credentials__openai": "not-one-of-mine"},
    )
    assert response.status_code == 400
    assert not GraphExecution.objects.exists()


# --- notifications ---------------------------------------------------------------------------


def _notify(user: User, key: str, title: str = "Otter echo approved") -> Notification:
    return notification_services.notification_send(
        user_id=user.pk,
        type="agent_approved",
        data={"agent_name": title, "listing_version_id": key, "reviewer_comments": ""},
        dedupe_key=key,
    )


def test_notifications_list_mark_read_and_read_all_with_the_badge(
    owner: User,
    other_user: User,
    alice: Client,
    bob: Client,
) -> None:
    body = alice.get("/notifications").content.decode()
    assert "No notifications yet" in body
    assert 'class="nav-badge zero" data-nav-badge="notifications">0<' in body

    first, second = _notify(owner, "a"), _notify(owner, "b")
    _notify(other_user, "c", title="Bob's beaver")
    body = alice.get("/agents").content.decode()
    assert 'data-nav-badge="notifications">2<' in body
    body = alice.get("/notifications").content.decode()
    assert body.count('class="note unread"') == 2
    assert "Bob's beaver" not in body

    assert 'href="/store/submissions">Otter echo approved was approved for the store</a>' in body
    assert bob.post(f"/notifications/{first.pk}/read").status_code == 404
    alice.post(f"/notifications/{first.pk}/read")
    assert 'data-nav-badge="notifications">1<' in alice.get("/agents").content.decode()
    assert alice.get("/notifications?unread=1").content.decode().count("<article") == 1
    response = alice.post(f"/notifications/{second.pk}/read", HTTP_X_REQUESTED_WITH="fetch")
    assert response.json() == {"ok": True}

    _notify(owner, "d")
    alice.post("/notifications/read-all")
    assert not Notification.objects.filter(user=owner, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=other_user, read_at__isnull=True).count() == 1
    assert "Nothing unread" in alice.get("/notifications?unread=1").content.decode()


def test_notification_preferences_and_the_daily_cap(owner: User, alice: Client) -> None:
    body = alice.get("/settings/profile").content.decode()
    assert 'name="notify_on_agent_run"' in body
    assert 'name="max_emails_per_day"' in body
    data = {"preferences": "", "max_emails_per_day": "7", "notify_on_daily_summary": "on"}
    assert alice.post("/settings/profile", data).status_code == 302
    owner.refresh_from_db()
    assert owner.max_emails_per_day == 7
    assert owner.notify_on_daily_summary
    assert not owner.notify_on_agent_run
    assert owner.name == "Alice"  # the profile form was not posted
    response = alice.post("/settings/profile", {"preferences": "", "max_emails_per_day": "-1"})
    assert response.status_code == 400
    owner.refresh_from_db()
    assert owner.max_emails_per_day == 7


# --- credentials page -----------------------------------------------------------------------


def test_credentials_are_added_listed_without_the_secret_and_deleted(
    owner: User, other_user: User, alice: Client, bob: Client
) -> None:
    assert "No credentials yet" in alice.get("/settings/credentials").content.decode()
    data = {"provider": "openai", "title": "My OpenAI", "api_key": SECRET}
    response = alice.post("/settings/credentials", data)
    assert response.status_code == 302
    credential = Credential.objects.get()
    body = alice.get("/settings/credentials").content.decode()
    assert "My OpenAI" in body
    assert SECRET not in body
    assert SECRET[-6:] not in body
    assert "My OpenAI" not in bob.get("/settings/credentials").content.decode()

    response = alice.post("/settings/credentials", {**data, "provider": "nope"})
    assert response.status_code == 400
    response = alice.post("/settings/credentials", {**data, "api_key": ""})
    assert response.status_code == 400
    assert SECRET not in response.content.decode()
    response = alice.post("/settings/credentials", {**data, "base_url": "http://127.0.0.1:9/v1"})
    assert response.status_code == 400
    assert SECRET not in response.content.decode()
    assert Credential.objects.count() == 1

    assert bob.post(f"/settings/credentials/{credential.pk}/delete").status_code == 404
    alice.post(f"/settings/credentials/{credential.pk}/delete")
    assert not Credential.objects.exists()


# --- chat page --------------------------------------------------------------------------------


def test_chat_sessions_are_created_shown_with_the_price_and_private(
    owner: User, alice: Client, bob: Client, settings
) -> None:
    settings.OPENAI_API_KEY = "sk-platform"
    body = alice.get("/chat").content.decode()
    assert "No chats yet" in body
    assert "GPT-4o mini · 1 credit a reply" in body
    response = alice.post("/chat", {"title": "Otters", "model": "gpt-4o", "system_prompt": ""})
    session = ChatSession.objects.get()
    assert response["Location"] == f"/chat/{session.pk}"
    body = alice.get(f"/chat/{session.pk}").content.decode()
    assert "Otters" in body
    assert "3 credits a reply with the platform" in body
    assert f'data-url="/api/chat/sessions/{session.pk}/messages"' in body
    assert "Say something to start" in body

    session.messages.create(role="user", content="Hello " * 500)
    session.messages.create(role="assistant", content="Hi", cost=3, model="gpt-4o")
    body = alice.get(f"/chat/{session.pk}").content.decode()
    assert "3 credits" in body
    assert 'class="bubble user' in body

    assert alice.post("/chat", {"model": "no-such-model"}).status_code == 400
    assert bob.get(f"/chat/{session.pk}").status_code == 404
    assert bob.post(f"/chat/{session.pk}/delete").status_code == 404
    alice.post(f"/chat/{session.pk}/delete")
    assert not ChatSession.objects.exists()


def test_it_says_on_the_chat_page_when_the_platform_has_no_key(
    owner: User, alice: Client, settings
) -> None:
    settings.OPENAI_API_KEY = ""
    body = alice.get("/chat").content.decode()
    assert "<h1>Chat with a model</h1>" in body
    assert "no model key of its own" in body
    alice.post("/chat", {"title": "Otters", "model": "gpt-4o", "system_prompt": ""})
    body = alice.get(f"/chat/{ChatSession.objects.get().pk}").content.decode()
    assert "a reply with the platform" not in body
    assert "add yours under" in body


def test_a_chat_with_the_users_own_credentials_says_it_is_free(owner: User, alice: Client) -> None:
    mine = integration_services.credential_create(
        user=owner, provider="openai", title="My OpenAI", api_key=SECRET
    )
    alice.post("/chat", {"model": "gpt-4o", "credential": str(mine.pk)})
    session = ChatSession.objects.get()
    assert session.credential_id == mine.pk
    assert "no credits charged" in alice.get(f"/chat/{session.pk}").content.decode()


@pytest.mark.parametrize(
    ("path", "empty"),
    [
        ("/notifications", "No notifications yet"),
        ("/settings/credentials", "No credentials yet"),
        ("/chat", "No chats yet"),
    ],
)
def test_account_pages_mark_their_nav_entry(alice: Client, path: str, empty: str) -> None:
    body = alice.get(path).content.decode()
    assert f'href="{path}" aria-current="page"' in body
    assert empty in body


def test_a_notification_links_to_what_it_is_about(owner: User) -> None:
    run_id, graph_id = uuid.uuid4(), uuid.uuid4()
    made = [
        Notification(user=owner, type="agent_run", data={"execution_id": str(run_id)}),
        Notification(user=owner, type="continuous_agent_error", data={"graph_id": str(graph_id)}),
        Notification(user=owner, type="low_balance", data={}),
        Notification(user=owner, type="daily_summary", data={}),
        Notification(user=owner, type="agent_run", data={"execution_id": "not-an-id"}),
    ]
    assert [notification_url(n) for n in made] == [
        f"/runs/{run_id}",
        f"/agents/{graph_id}",
        "/credits",
        "",
        "",
    ]
