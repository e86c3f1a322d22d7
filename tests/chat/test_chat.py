"""Chat (SPEC §7): sessions, replies streamed token by token over SSE and /ws, charged per
model with the platform's key, context kept in Redis. Against the real ASGI server and the
OpenAI-compatible test server."""

import json
from collections.abc import Iterator

import httpx
import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken
from websockets.sync.client import connect

from apps.chat import context_cache
from apps.chat.models import ChatMessage, ChatSession
from apps.common.redis import get_redis
from apps.credits.models import CreditTransaction
from apps.credits.selectors import credit_balance_get
from apps.credits.services import credit_grant
from apps.graphs.blocks.llm import MODELS_BY_ID
from apps.integrations import crypto
from apps.integrations import services as integrations
from apps.integrations.models import Credential
from apps.users.models import User
from tests.processes import LOOPBACK_TEST_PORTS, wait_for

PLATFORM_KEY = "sk-platform-chat-0123456789"


@pytest.fixture
def platform_llm(settings, openai_server):
    settings.OPENAI_API_KEY = PLATFORM_KEY
    settings.OPENAI_BASE_URL = openai_server.url
    settings.BLOCK_HTTP_ALLOWED_HOSTS = [LOOPBACK_TEST_PORTS]
    return openai_server


def _events(response: httpx.Response) -> Iterator[tuple[str, dict]]:
    """Parse server-sent events as they arrive."""
    event, data = "", []
    for line in response.iter_lines():
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data.append(line.removeprefix("data: "))
        elif line == "" and event:
            yield event, json.loads("\n".join(data))
            event, data = "", []


def _session(owner: User, **fields) -> ChatSession:
    client = APIClient()
    client.force_authenticate(owner)
    response = client.post("/api/chat/sessions", fields, format="json")
    assert response.status_code == 201, response.content
    return ChatSession.objects.get(pk=response.json()["id"])


@pytest.mark.django_db(transaction=True)
def test_a_reply_streams_token_by_token_over_sse_and_ws_and_is_charged(
    asgi_server, platform_llm, owner: User
) -> None:
    session = _session(owner, title="Otters", model="gpt-4o")
    before = credit_balance_get(user_id=owner.pk)
    token = str(AccessToken.for_user(owner))
    platform_llm.hold_stream()
    url = f"{asgi_server.url}/api/chat/sessions/{session.pk}/messages"
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    seen: list[tuple[str, dict]] = []
    with (
        connect(f"{asgi_server.ws_url}/ws?token={token}") as socket,
        httpx.Client(timeout=30) as client,
        client.stream(
            "POST", url, json={"content": "REPLY: Otters hold hands"}, headers=headers
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _events(response)
        seen.append(next(events))
        seen.append(next(events))
        # The first token is here while the provider still holds back the rest: streamed,
        # not buffered.
        assert seen[-1] == ("delta", {"content": "Otters"})
        assert not platform_llm.server.stream_gate.is_set()
        platform_llm.release_stream()
        seen.extend(events)
        ws_messages = []
        while len(ws_messages) < 4:
            message = json.loads(socket.recv(timeout=10))
            if message["method"].startswith("chat_"):
                ws_messages.append(message)
    names = [name for name, _ in seen]
    assert names == ["message_start", "delta", "delta", "delta", "done"]
    assert "".join(data["content"] for name, data in seen if name == "delta") == (
        "Otters hold hands"
    )
    done = seen[-1][1]
    assert done["content"] == "Otters hold hands"
    assert done["status"] == "completed"
    assert done["cost"] == MODELS_BY_ID["gpt-4o"].cost
    assert done["completion_tokens"] == 3
    assert [m["method"] for m in ws_messages] == ["chat_message_delta"] * 3 + ["chat_message_done"]
    assert ws_messages[0]["data"]["content"] == "Otters"
    assert ws_messages[-1]["data"]["status"] == "completed"
    assert platform_llm.requests[-1]["headers"]["authorization"] == f"Bearer {PLATFORM_KEY}"
    charge = CreditTransaction.objects.get(transaction_key=f"chat:{done['id']}")
    assert (charge.type, charge.amount) == ("USAGE", -MODELS_BY_ID["gpt-4o"].cost)
    assert credit_balance_get(user_id=owner.pk) == before - MODELS_BY_ID["gpt-4o"].cost
    stored = list(session.messages.values_list("role", "content", "status"))
    assert stored == [
        ("user", "REPLY: Otters hold hands", "completed"),
        ("assistant", "Otters hold hands", "completed"),
    ]


def _post(client: APIClient, session: ChatSession, content: str) -> list[tuple[str, dict]]:
    response = client.post(
        f"/api/chat/sessions/{session.pk}/messages", {"content": content}, format="json"
    )
    assert response.status_code == 200, response.content
    body = b"".join(response.streaming_content).decode()
    events = []
    for block in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


@pytest.mark.django_db(transaction=True)
def test_the_recent_context_comes_from_redis_and_is_rebuilt_from_the_database(
    platform_llm, owner: User, owner_client: APIClient
) -> None:
    session = _session(owner, system_prompt="Be kind.")
    _post(owner_client, session, "REPLY: first answer")
    _post(owner_client, session, "REPLY: second answer")
    sent = platform_llm.requests[-1]["body"]["messages"]
    assert sent == [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "REPLY: first answer"},
        {"role": "assistant", "content": "first answer"},
        {"role": "user", "content": "REPLY: second answer"},
    ]
    cached = get_redis().lrange(context_cache.KEY.format(session.pk), 0, -1)
    assert [json.loads(item)["content"] for item in cached] == [
        "REPLY: first answer",
        "first answer",
        "REPLY: second answer",
        "second answer",
    ]
    context_cache.forget(session.pk)
    _post(owner_client, session, "third")
    assert platform_llm.requests[-1]["body"]["messages"][1:] == [
        {"role": "user", "content": "REPLY: first answer"},
        {"role": "assistant", "content": "first answer"},
        {"role": "user", "content": "REPLY: second answer"},
        {"role": "assistant", "content": "second answer"},
        {"role": "user", "content": "third"},
    ]


@pytest.mark.django_db(transaction=True)
def test_with_the_users_own_key_a_reply_is_free(
    platform_llm, owner: User, owner_client: APIClient
) -> None:
    credential = integrations.credential_create(
        user=owner,
        provider="openai",
        title="Mine",
        api_key="sk-alice-chat-123456",
        base_url=platform_llm.url,
    )
    session = _session(owner, model="local-llama", credential_id=str(credential.pk))
    events = _post(owner_client, session, "hello")
    assert events[-1][0] == "done"
    assert events[-1][1]["cost"] == 0
    assert platform_llm.requests[-1]["headers"]["authorization"] == "Bearer sk-alice-chat-123456"
    assert not CreditTransaction.objects.filter(type="USAGE").exists()


@pytest.mark.django_db(transaction=True)
def test_a_provider_error_is_an_error_event_and_the_charge_is_refunded(
    platform_llm, owner: User, owner_client: APIClient
) -> None:
    session = _session(owner)
    ChatSession.objects.filter(pk=session.pk).update(model="error-500")
    integrations.credential_create(
        user=owner,
        provider="openai",
        title="Mine",
        api_key="sk-x-123456789",
        base_url=platform_llm.url,
    )
    events = _post(owner_client, session, "hello")
    assert [name for name, _ in events] == ["message_start", "error"]
    assert "answered 500" in events[-1][1]["message"]
    failed = ChatMessage.objects.get(pk=events[-1][1]["message_id"])
    assert (failed.status, failed.cost) == ("failed", 0)
    assert "answered 500" in failed.error


@pytest.mark.django_db(transaction=True)
def test_a_reply_that_cannot_be_requested_is_an_error_event_and_a_failed_message(
    platform_llm, owner: User, owner_client: APIClient
) -> None:
    """A key stored before keys had to be ASCII cannot go in a header: the client raises
    outside the provider's errors, and the stream still ends with its error event."""
    credential = integrations.credential_create(
        user=owner, provider="openai", title="Old", api_key="sk-old", base_url=platform_llm.url
    )
    Credential.objects.filter(pk=credential.pk).update(
        encrypted_api_key=crypto.encrypt("sk-ünïcode")
    )
    session = _session(owner, model="local-llama", credential_id=str(credential.pk))
    events = _post(owner_client, session, "hello")
    assert [name for name, _ in events] == ["message_start", "error"]
    assert "cannot carry" in events[-1][1]["message"]
    failed = ChatMessage.objects.get(pk=events[-1][1]["message_id"])
    assert failed.status == "failed"


@pytest.mark.django_db(transaction=True)
def test_a_failed_platform_reply_is_refunded(
    platform_llm, owner: User, owner_client: APIClient, settings
) -> None:
    session = _session(owner)
    before = credit_balance_get(user_id=owner.pk)
    # The platform's provider cannot be reached: the reply fails after it was paid for.
    settings.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"
    events = _post(owner_client, session, "hello")
    assert events[-1][0] == "error"
    assert "Could not reach the provider" in events[-1][1]["message"]
    kinds = sorted(CreditTransaction.objects.filter(user=owner).values_list("type", "amount"))
    assert ("USAGE", -1) in kinds
    assert ("REFUND", 1) in kinds
    assert credit_balance_get(user_id=owner.pk) == before


@pytest.mark.django_db(transaction=True)
def test_a_reply_with_text_the_database_cannot_store_is_saved_with_replacements(
    platform_llm, owner: User, owner_client: APIClient
) -> None:
    session = _session(owner)
    platform_llm.script("Otters\x00 hold \ud800hands")
    events = _post(owner_client, session, "hello")
    assert events[-1][0] == "done"
    assert events[-1][1]["status"] == "completed"
    reply = session.messages.get(role="assistant")
    assert (reply.status, reply.content) == ("completed", "Otters\ufffd hold \ufffdhands")


@pytest.mark.django_db
def test_an_empty_purse_is_a_402_and_nothing_is_saved(
    platform_llm, owner: User, owner_client: APIClient
) -> None:
    session = _session(owner)
    credit_grant(
        user_id=owner.pk, amount=-credit_balance_get(user_id=owner.pk), reason="t", granted_by="t"
    )
    response = owner_client.post(
        f"/api/chat/sessions/{session.pk}/messages", {"content": "hi"}, format="json"
    )
    assert response.status_code == 402
    assert response.json()["error"]["error_code"] == "INSUFFICIENT_CREDITS"
    assert not ChatMessage.objects.exists()
    assert platform_llm.requests == []


@pytest.mark.django_db
def test_without_any_credentials_a_message_is_refused(
    owner: User, owner_client: APIClient, settings
) -> None:
    settings.OPENAI_API_KEY = ""
    session = _session(owner)
    response = owner_client.post(
        f"/api/chat/sessions/{session.pk}/messages", {"content": "hi"}, format="json"
    )
    assert response.status_code == 400
    assert "No credentials" in response.json()["error"]["message"]


@pytest.mark.django_db
def test_sessions_are_private(owner: User, other_user: User, owner_client: APIClient) -> None:
    theirs = _session(other_user, title="Bob's")
    assert owner_client.get(f"/api/chat/sessions/{theirs.pk}").status_code == 404
    answer = owner_client.post(
        f"/api/chat/sessions/{theirs.pk}/messages", {"content": "hi"}, format="json"
    )
    assert answer.status_code == 404
    assert owner_client.get("/api/chat/sessions").json()["total"] == 0
    mine = _session(owner, title="Mine")
    detail = owner_client.get(f"/api/chat/sessions/{mine.pk}").json()
    assert (detail["title"], detail["messages"]) == ("Mine", [])
    models = owner_client.get("/api/chat/models").json()
    assert {"id": "gpt-4o", "title": "GPT-4o", "cost": 3, "context_window": 128000} in models


@pytest.mark.django_db(transaction=True)
def test_a_client_that_goes_away_still_gets_its_reply_saved(
    asgi_server, platform_llm, owner: User
) -> None:
    session = _session(owner)
    token = str(AccessToken.for_user(owner))
    platform_llm.hold_stream()
    url = f"{asgi_server.url}/api/chat/sessions/{session.pk}/messages"
    with (
        httpx.Client(timeout=30) as client,
        client.stream(
            "POST",
            url,
            json={"content": "REPLY: one two three"},
            headers={"Authorization": f"Bearer {token}"},
        ) as response,
    ):
        events = _events(response)
        assert next(events)[0] == "message_start"
        assert next(events) == ("delta", {"content": "one"})
    platform_llm.release_stream()
    reply = wait_for(
        lambda: ChatMessage.objects.filter(
            session=session, role="assistant", status__in=["completed", "interrupted"]
        ).first(),
        timeout=30,
        what="the reply to be saved",
    )
    assert (reply.status, reply.content) == ("completed", "one two three")
