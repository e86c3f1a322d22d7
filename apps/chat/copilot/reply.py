"""A copilot reply (SPEC §18): the model is called with the tools of apps.chat.copilot.tools
in a loop until it answers without calling one.

Each model call is one assistant message of the session, charged like any chat reply (per
model, with the platform's credentials, under the key `chat:<message id>`); a call that asks
for tools is saved with its `tool_calls`, and each result is a `tool` message answering it.
Every call and result is streamed (SSE events `tool_call`, `tool_result`) and sent over /ws
as it happens. The loop is bounded twice: COPILOT_MAX_TURNS model calls in one reply, and
COPILOT_REPAIR_ROUNDS graphs refused by the validator; past that the remaining errors are
shown to the user and nothing is proposed.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

from apps.chat import live
from apps.chat.copilot.tools import DEFINITIONS, Toolset
from apps.chat.models import ChatMessage
from apps.chat.services import ChatReply, reason_for
from apps.common.exceptions import InsufficientCredits
from apps.common.json_limits import storable
from apps.executions.runtime import charge_usage
from apps.graphs.blocks import llm

SYSTEM_PROMPT = """You are the copilot of an agent platform. You build agents for the user: \
graphs of blocks linked output pin → input pin. To build one: search_blocks for each step, \
get_block_schema for the pins of the blocks you use, draft the graph (nodes with short ids, \
input_default for fixed values, links between pins of matching types), validate_graph, fix \
what it reports, then propose_graph. The user opens the proposal in the builder and saves it \
themselves. To run an agent, call run_agent with the inputs the user gave: it runs only after \
the user confirms. Explain a run's results with get_run_results, naming failed nodes and their \
errors. Never ask for passwords or keys: credentials are chosen by name."""


@dataclass
class CopilotReply(ChatReply):
    tools: Toolset | None = None
    price: int = 0
    # The completed messages of this reply in the provider's form, for the context cache.
    exchange: list[dict[str, Any]] = field(default_factory=list)

    def events(self) -> Iterator[tuple[str, dict[str, Any]]]:
        status, error = ChatMessage.Status.INTERRUPTED, ""
        try:
            yield from self._loop()
            status = ChatMessage.Status.COMPLETED
        except Exception as exc:  # not GeneratorExit: a client that leaves is `interrupted`
            status, error = ChatMessage.Status.FAILED, reason_for(exc)
            raise
        finally:
            if self.message.status == ChatMessage.Status.STREAMING:
                self._save(self.message.content, status, error)

    def _loop(self) -> Iterator[tuple[str, dict[str, Any]]]:
        assert self.tools is not None
        failed_validations = 0
        last_errors: dict[str, Any] = {}
        for turn in range(1, settings.COPILOT_MAX_TURNS + 1):
            if turn > 1:
                self._next_message()
                yield "turn", {"message_id": str(self.message.pk)}
            reply = self.client.complete_with_tools(
                self.messages, model=self.session.model, tools=DEFINITIONS
            )
            self.usage.prompt_tokens = reply.prompt_tokens
            self.usage.completion_tokens = reply.completion_tokens
            if not reply.tool_calls:
                text = storable(reply.text)
                self._delta(text)
                yield "delta", {"content": text}
                self.message.content = text
                return
            calls = [
                {"id": call.id, "name": call.name, "arguments": storable(call.arguments)}
                for call in reply.tool_calls
            ]
            self.message.tool_calls = calls
            self._save(storable(reply.text), ChatMessage.Status.COMPLETED, "", final=False)
            turn_message = {
                "role": "assistant",
                "content": reply.text or None,
                "tool_calls": [
                    {"id": c["id"], "type": "function",
                     "function": {"name": c["name"], "arguments": c["arguments"]}}
                    for c in calls
                ],
            }  # fmt: skip
            self.messages.append(turn_message)
            self.exchange.append(turn_message)
            for call in calls:
                yield "tool_call", self._announce_call(call)
                event, outcome = self._run_tool(call)
                yield "tool_result", event
                if outcome.failed_validation:
                    failed_validations += 1
                    last_errors = outcome.result.get("node_errors") or {}
            if failed_validations > settings.COPILOT_REPAIR_ROUNDS:
                self._next_message(charge=False)
                yield "turn", {"message_id": str(self.message.pk), "charged": False}
                text = _unrepaired(settings.COPILOT_REPAIR_ROUNDS, last_errors)
                self._delta(text)
                yield "delta", {"content": text}
                self.message.content = text
                return
        self._next_message(charge=False)
        yield "turn", {"message_id": str(self.message.pk), "charged": False}
        text = (
            f"I stopped after {settings.COPILOT_MAX_TURNS} steps without finishing; "
            "ask me to go on, or say more precisely what you need."
        )
        self._delta(text)
        yield "delta", {"content": text}
        self.message.content = text

    def _delta(self, text: str) -> None:
        self._publish(
            live.CHAT_DELTA,
            {
                "session_id": str(self.session.pk),
                "message_id": str(self.message.pk),
                "content": text,
            },
        )

    def _announce_call(self, call: dict[str, Any]) -> dict[str, Any]:
        data = {
            "session_id": str(self.session.pk),
            "message_id": str(self.message.pk),
            "tool_call_id": call["id"],
            "name": call["name"],
            "arguments": call["arguments"],
        }
        self._publish(live.CHAT_TOOL_CALL, data)
        return data

    def _run_tool(self, call: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        """Run one call, store its result as a `tool` message and tell the user about it."""
        assert self.tools is not None
        with transaction.atomic():
            row = ChatMessage.objects.create(
                session=self.session,
                role=ChatMessage.Role.TOOL,
                tool_call_id=call["id"],
                tool_name=call["name"],
                status=ChatMessage.Status.COMPLETED,
            )
            outcome = self.tools.call(call["name"], call["arguments"], row)
            row.content = storable(json.dumps(outcome.result, default=str))
            row.save(update_fields=["content"])
        tool_message = {"role": "tool", "tool_call_id": call["id"], "content": row.content}
        self.messages.append(tool_message)
        self.exchange.append(tool_message)
        data = {
            "session_id": str(self.session.pk),
            "message_id": str(row.pk),
            "tool_call_id": call["id"],
            "name": call["name"],
            "result": outcome.result,
            "proposal_id": str(outcome.proposal.pk) if outcome.proposal else None,
            "run_request_id": str(outcome.run.pk) if outcome.run else None,
        }
        self._publish(live.CHAT_TOOL_RESULT, data)
        return data, outcome

    def _next_message(self, *, charge: bool = True) -> None:
        """The next model call's message, charged before the call (402 ends the reply with
        the reason, the calls so far are kept). A note of the platform's own costs nothing."""
        price = self.price if charge else 0
        with transaction.atomic():
            self.message = ChatMessage.objects.create(
                session=self.session,
                role=ChatMessage.Role.ASSISTANT,
                status=ChatMessage.Status.STREAMING,
                model=self.session.model,
                cost=price,
            )
            if price:
                try:
                    charge_usage(
                        user_id=self.session.user_id,
                        amount=price,
                        key=f"chat:{self.message.pk}",
                        description=f"Copilot: {self.session.title or self.session.model}",
                        metadata={
                            "chat_session_id": str(self.session.pk),
                            "model": self.session.model,
                        },
                    )
                except InsufficientCredits as exc:
                    self.message.cost = 0
                    raise llm.LlmError(
                        f"Not enough credits for the next step: {exc.message}"
                    ) from None
        self.usage = llm.StreamUsage()

    def _remembered(self, status: str, content: str) -> list[dict[str, Any]]:
        done: list[dict[str, Any]] = [{"role": "user", "content": self.user_message.content}]
        done.extend(self.exchange)
        if status == ChatMessage.Status.COMPLETED and not self.message.tool_calls:
            done.append({"role": "assistant", "content": content})
        self.exchange = []
        return done


def _unrepaired(rounds: int, node_errors: dict[str, Any]) -> str:
    lines = [
        f"I could not make a valid agent in {rounds} repair round{'s' if rounds != 1 else ''}; "
        "nothing was proposed or saved. What the platform's validator still reports:"
    ]
    for node, fields in node_errors.items():
        for name, message in (fields or {}).items():
            lines.append(f"- {node}.{name}: {message}")
    return "\n".join(lines)
