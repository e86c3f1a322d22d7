"""Messaging (SPEC §16): post to and read from Slack (bot token or OAuth2), Discord (bot token)
and Telegram (bot token)."""

from collections.abc import Iterator
from typing import Any

from apps.graphs.blocks.base import BlockCategory, BlockOutput, BlockSchema, SchemaField
from apps.graphs.blocks.context import BlockContext, ProviderCredentials
from apps.graphs.blocks.providers import (
    FailureKind,
    ProviderApi,
    ProviderBlock,
    provider_credentials,
)

CATEGORIES = frozenset({BlockCategory.COMMUNICATION})


def _slack_failure(body: Any) -> tuple[str, FailureKind] | None:
    """Slack answers 200 with {"ok": false, "error": code} for most failures."""
    if isinstance(body, dict) and body.get("ok") is False:
        code = str(body.get("error") or "unknown_error")
        if code == "ratelimited":
            return code, FailureKind.RATE_LIMITED
        if code in ("invalid_auth", "not_authed", "token_revoked", "token_expired"):
            return f"the token was refused ({code})", FailureKind.AUTH
        return code, FailureKind.CLIENT_ERROR
    return None


SLACK = ProviderApi(
    name="slack",
    title="Slack",
    default_base_url="https://slack.com/api",
    body_error=_slack_failure,
    headers={"Content-Type": "application/json; charset=utf-8"},
)


class SlackPostMessageBlock(ProviderBlock):
    id = "cd205ca4-2f90-4880-abe2-ae78cdd6707c"
    name = "Slack: Post Message"
    description = "Posts a message to a Slack channel (id or #name), optionally in a thread."
    categories = CATEGORIES
    api = SLACK
    credential_types = ("api_key", "oauth2")

    class Input(BlockSchema):
        channel: str = SchemaField(description="Channel id (C…) or #name.")
        text: str = SchemaField(description="The message (Slack mrkdwn).", max_length=40_000)
        thread_ts: str = SchemaField("", description="Reply in this thread.", advanced=True)

    class Output(BlockOutput):
        ts: str = SchemaField(description="The message's timestamp id.")
        channel: str = SchemaField(description="The channel it was posted to.")

    test_input = [{"channel": "C123", "text": "Otters at noon"}, {"channel": "C404", "text": "x"}]
    test_output = [
        ("ts", "1767225600.000100"),
        ("channel", "C123"),
        ("error", "Slack: channel_not_found."),
    ]

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        body = {"channel": input_data.channel, "text": input_data.text}
        if input_data.thread_ts:
            body["thread_ts"] = input_data.thread_ts
        answer = self.request(context, "POST", "chat.postMessage", json=body)
        yield "ts", answer.get("ts", "")
        yield "channel", answer.get("channel", input_data.channel)


class SlackReadMessagesBlock(ProviderBlock):
    id = "569eee1b-0e42-4183-af2e-3c16fe6dd31f"
    name = "Slack: Read Messages"
    description = "Reads a channel's most recent messages, newest first."
    categories = CATEGORIES
    api = SLACK
    credential_types = ("api_key", "oauth2")

    class Input(BlockSchema):
        channel: str = SchemaField(description="Channel id (C…).")
        limit: int = SchemaField(20, ge=1, le=200)

    class Output(BlockOutput):
        messages: list[dict[str, str]] = SchemaField(description="{user, text, ts}.")
        message: dict[str, str] = SchemaField(description="Each message, one at a time.")

    test_input = [{"channel": "C123", "limit": 1}, {"channel": "C404"}]
    test_output = [
        ("messages", [{"user": "U1", "text": "otters at noon", "ts": "1767225600.1"}]),
        ("message", {"user": "U1", "text": "otters at noon", "ts": "1767225600.1"}),
        ("error", "Slack: channel_not_found."),
    ]

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        answer = self.request(
            context,
            "GET",
            "conversations.history",
            params={"channel": input_data.channel, "limit": input_data.limit},
        )
        rows = answer.get("messages") or []
        messages = [
            {"user": str(row.get("user", "")), "text": str(row.get("text", "")),
             "ts": str(row.get("ts", ""))}
            for row in rows[: input_data.limit]
        ]  # fmt: skip
        yield "messages", messages
        for message in messages:
            yield "message", message


def _bot(credentials: ProviderCredentials) -> dict[str, str]:
    return {"Authorization": f"Bot {credentials.api_key}"}


DISCORD = ProviderApi(
    name="discord", title="Discord", default_base_url="https://discord.com/api/v10", auth=_bot
)


class DiscordPostMessageBlock(ProviderBlock):
    id = "63ea6007-e8ae-4c32-a22d-d02248a1d9f5"
    name = "Discord: Post Message"
    description = "Posts a message to a Discord channel as your bot."
    categories = CATEGORIES
    api = DISCORD

    class Input(BlockSchema):
        channel_id: str = SchemaField(description="The channel's id.")
        content: str = SchemaField(description="The message.", max_length=2000)

    class Output(BlockOutput):
        message_id: str = SchemaField(description="The message's id.")

    test_input = [
        {"channel_id": "555", "content": "Otters!"},
        {"channel_id": "404", "content": "x"},
    ]
    test_output = [
        ("message_id", "1001"),
        ("error", "Discord answered 404 (not found): Unknown Channel."),
    ]

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        answer = self.request(
            context,
            "POST",
            f"channels/{input_data.channel_id.strip()}/messages",
            json={"content": input_data.content, "allowed_mentions": {"parse": []}},
        )
        yield "message_id", str(answer.get("id", ""))


class DiscordReadMessagesBlock(ProviderBlock):
    id = "d668d74f-9792-4ea5-a279-c65856545c6b"
    name = "Discord: Read Messages"
    description = "Reads a Discord channel's most recent messages, newest first."
    categories = CATEGORIES
    api = DISCORD

    class Input(BlockSchema):
        channel_id: str = SchemaField(description="The channel's id.")
        limit: int = SchemaField(20, ge=1, le=100)

    class Output(BlockOutput):
        messages: list[dict[str, str]] = SchemaField(description="{id, author, content, time}.")

    test_input = [{"channel_id": "555"}, {"channel_id": "404"}]
    test_output = [
        ("messages", [{"id": "1002", "author": "ada", "content": "otters!",
                       "time": "2026-11-02T09:00:00+00:00"}]),
        ("error", "Discord answered 404 (not found): Unknown Channel."),
    ]  # fmt: skip

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        rows = self.request(
            context,
            "GET",
            f"channels/{input_data.channel_id.strip()}/messages",
            params={"limit": input_data.limit},
        )
        yield "messages", [
            {"id": str(row.get("id", "")), "author": (row.get("author") or {}).get("username", ""),
             "content": row.get("content", ""), "time": row.get("timestamp", "")}
            for row in rows
        ]  # fmt: skip


def _telegram_failure(body: Any) -> tuple[str, FailureKind] | None:
    if isinstance(body, dict) and body.get("ok") is False:
        return str(body.get("description") or "unknown error"), FailureKind.CLIENT_ERROR
    return None


# Telegram puts the token in the path (/bot<token>/method), never in a header.
TELEGRAM = ProviderApi(
    name="telegram",
    title="Telegram",
    default_base_url="https://api.telegram.org",
    auth=lambda credentials: {},
    body_error=_telegram_failure,
)


def _method(credentials: ProviderCredentials, method: str) -> str:
    return f"bot{credentials.api_key}/{method}"


class TelegramSendMessageBlock(ProviderBlock):
    id = "8741fcfc-ca0d-4b04-982b-e9299390b78b"
    name = "Telegram: Send Message"
    description = "Sends a message from your bot to a chat (user, group or channel)."
    categories = CATEGORIES
    api = TELEGRAM

    class Input(BlockSchema):
        chat_id: str = SchemaField(description="The chat's id or @channelname.")
        text: str = SchemaField(description="The message.", max_length=4096)
        parse_mode: str = SchemaField("", description="MarkdownV2, HTML, or none.")

    class Output(BlockOutput):
        message_id: int = SchemaField(description="The sent message's id.")

    test_input = [{"chat_id": "42", "text": "Hello"}, {"chat_id": "0", "text": "x"}]
    test_output = [
        ("message_id", 5),
        ("error", "Telegram answered 400 (the request was refused as invalid): Bad Request: "
                  "chat not found."),
    ]  # fmt: skip

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        credentials = provider_credentials(context, self.api)
        body = {"chat_id": input_data.chat_id, "text": input_data.text}
        if input_data.parse_mode:
            body["parse_mode"] = input_data.parse_mode
        answer = self.request(context, "POST", _method(credentials, "sendMessage"), json=body)
        yield "message_id", int((answer.get("result") or {}).get("message_id", 0))


class TelegramReadUpdatesBlock(ProviderBlock):
    id = "d985f80f-edaa-4c25-88c0-9234ae0e5619"
    name = "Telegram: Read Messages"
    description = (
        "Reads the messages sent to your bot (getUpdates). Pass the last `next_offset` back "
        "as `offset` to get only newer ones."
    )
    categories = CATEGORIES
    api = TELEGRAM

    class Input(BlockSchema):
        offset: int = SchemaField(0, description="Only updates from this id on.")
        limit: int = SchemaField(20, ge=1, le=100)

    class Output(BlockOutput):
        messages: list[dict[str, Any]] = SchemaField(description="{chat_id, from, text, date}.")
        next_offset: int = SchemaField(description="The offset for the next read.")

    test_input = [{"limit": 5}, {"offset": 999}]
    test_output = [
        ("messages", [{"chat_id": 42, "from": "ada", "text": "hello bot", "date": 1767225600}]),
        ("next_offset", 12),
        ("error", "Telegram answered 409 (a conflict): Conflict: terminated by other getUpdates "
                  "request."),
    ]  # fmt: skip

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        credentials = provider_credentials(context, self.api)
        answer = self.request(
            context,
            "GET",
            _method(credentials, "getUpdates"),
            params={"offset": input_data.offset or None, "limit": input_data.limit},
        )
        updates = answer.get("result") or []
        messages = []
        for update in updates:
            message = update.get("message") or update.get("channel_post")
            if message:
                messages.append({
                    "chat_id": (message.get("chat") or {}).get("id"),
                    "from": (message.get("from") or {}).get("username", ""),
                    "text": message.get("text", ""),
                    "date": message.get("date"),
                })  # fmt: skip
        yield "messages", messages
        last = max((u.get("update_id", 0) for u in updates), default=input_data.offset - 1)
        yield "next_offset", last + 1
