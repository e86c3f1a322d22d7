"""The AI Agent (SPEC §15, the original's "Smart Decision Maker"): a model that calls the nodes
linked from its `tools` pin, in a loop, until it answers.

The engine describes each tool node (label, block description, JSON Schema of its free inputs)
and runs each call as a node execution of that node (`context.tools`, engine/tools.py). This
block only talks to the model: it checks the model's calls (known tool, JSON arguments that fit
the schema; a bad one goes back to the model as an error result), hands the good ones of a turn
to the engine together, and returns the results to the model. Each model call after the first
is charged again through `context.meter` (the first is the node's own charge).
"""

import json
from collections.abc import Iterator, Sequence
from typing import Any

import jsonschema

from apps.graphs.blocks import llm
from apps.graphs.blocks.base import BlockOutput, BlockSchema, SchemaField
from apps.graphs.blocks.context import BlockContext, ChargeRefused
from apps.graphs.blocks.library.ai import _LlmBlock, _model_field, _timeout_field

DEFAULT_SYSTEM_PROMPT = (
    "You are an agent. Use the tools you are given when they help; call several at once when "
    "they do not depend on each other. When you have the answer, reply with it without calling "
    "a tool."
)
# A tool result longer than this goes back to the model cut, so one call cannot flood it.
RESULT_LIMIT = 20_000


def _error(message: str) -> str:
    return json.dumps({"error": message})


def _result_text(result: Any) -> str:
    """A finished call as the model reads it: its outputs by pin (one value, or the list of
    them), or {"error": why}."""
    if result.status != "completed":
        return _error(result.error or f"the tool's run ended {result.status}")
    by_pin: dict[str, list[Any]] = {}
    for pin, value in result.outputs:
        by_pin.setdefault(pin, []).append(value)
    outputs = {pin: values[0] if len(values) == 1 else values for pin, values in by_pin.items()}
    text = json.dumps(outputs, default=str)
    return text if len(text) <= RESULT_LIMIT else text[:RESULT_LIMIT] + " …(cut)"


def _arguments_problem(arguments: Any, schema: dict[str, Any]) -> str | None:
    if not isinstance(arguments, dict):
        return "the arguments must be a JSON object"
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(schema).iter_errors(arguments)
    )
    if error is None:
        return None
    where = ".".join(str(part) for part in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message


class AIAgentBlock(_LlmBlock):
    id = "3b191d9f-356f-482d-8238-ba04b6d18381"
    name = "AI Agent"
    description = (
        "A language model that may call the nodes linked from its `tools` pin (blocks or "
        "sub-agents) as tools, in a loop, until it answers: `finished` is the answer, "
        "`conversation` the whole exchange. Each tool call runs as an execution of that node. "
        "Ends with an error after `max_iterations` model calls without an answer."
    )
    calls_tools = True
    # Not tried again: its tool calls have effects, which another attempt would repeat.
    retry_policy = None
    # The loop and its tools' runs all happen within the node's time.
    timeout_seconds = 900.0

    class Input(BlockSchema):
        prompt: str = SchemaField(description="The task.")
        sys_prompt: str = SchemaField(
            DEFAULT_SYSTEM_PROMPT, description="The system prompt.", advanced=True
        )
        model: str = _model_field()
        max_iterations: int = SchemaField(
            10, ge=1, le=50, description="The most model calls before giving up."
        )
        temperature: float | None = SchemaField(None, ge=0, le=2, advanced=True)
        timeout: float = _timeout_field()

    class Output(BlockOutput):
        finished: str = SchemaField(description="The model's final answer.")
        conversation: list[dict[str, Any]] = SchemaField(
            description="Every message of the exchange, tool calls and results included."
        )
        tools: Any = SchemaField(
            description="Link it to a node's `tool` end to make that node a tool; nothing is "
            "sent on it."
        )

    test_input = {"prompt": "REPLY: 42", "max_iterations": 2}
    test_output = [("finished", "42"), ("conversation", list)]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        tools = list(context.tools.tools) if context.tools is not None else []
        offered = [tool.as_openai() for tool in tools]
        messages = self._messages(input_data.sys_prompt, input_data.prompt)
        last_problem = ""
        try:
            client = self._client(context, input_data.timeout)
            for turn in range(1, input_data.max_iterations + 1):
                if turn > 1 and context.meter is not None:
                    context.meter.charge_again(f"llm:{turn}")
                context.cancel.check()
                reply = client.complete_with_tools(
                    messages,
                    model=input_data.model,
                    tools=offered,
                    temperature=input_data.temperature,
                )
                self._count(context, reply)
                if not reply.tool_calls:
                    messages.append({"role": "assistant", "content": reply.text})
                    yield "finished", reply.text
                    yield "conversation", messages
                    return
                messages.append(_assistant_turn(reply))
                results, problem = self._call_tools(context, tools, reply.tool_calls)
                last_problem = problem or last_problem
                messages.extend(results)
        except (llm.LlmError, ChargeRefused) as exc:
            yield "error", str(exc)
            return
        detail = f" (last problem: {last_problem})" if last_problem else ""
        yield (
            "error",
            f"No final answer after {input_data.max_iterations} model calls "
            f"(max_iterations){detail}.",
        )

    @staticmethod
    def _call_tools(
        context: BlockContext, tools: Sequence[Any], calls: Sequence[llm.ToolCall]
    ) -> tuple[list[dict[str, Any]], str]:
        """The tool messages answering `calls`, in order, and the last problem found (a call
        the model got wrong, or a tool that failed)."""
        by_name = {tool.name: tool for tool in tools}
        contents: list[str] = [""] * len(calls)
        problem = ""
        valid: list[tuple[int, str, dict[str, Any]]] = []
        for index, call in enumerate(calls):
            tool = by_name.get(call.name)
            if tool is None:
                known = ", ".join(sorted(by_name)) or "none"
                problem = f"there is no tool named {call.name!r} (the tools: {known})"
            else:
                try:
                    arguments = json.loads(call.arguments or "{}")
                except ValueError as exc:
                    arguments, problem = None, f"the arguments of {call.name} are not JSON: {exc}"
                else:
                    found = _arguments_problem(arguments, tool.parameters)
                    if found is None:
                        valid.append((index, call.name, arguments))
                        continue
                    problem = f"invalid arguments for {call.name}: {found}"
            contents[index] = _error(problem)
        if valid:
            assert context.tools is not None  # valid calls name a known tool
            results = context.tools.call_many([(name, arguments) for _, name, arguments in valid])
            for (index, name, _), result in zip(valid, results, strict=True):
                contents[index] = _result_text(result)
                if result.status != "completed":
                    problem = f"{name} failed: {result.error or result.status}"
        messages = [
            {"role": "tool", "tool_call_id": call.id, "content": content}
            for call, content in zip(calls, contents, strict=True)
        ]
        return messages, problem


def _assistant_turn(reply: llm.LlmToolReply) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": reply.text or None,
        "tool_calls": [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in reply.tool_calls
        ],
    }
