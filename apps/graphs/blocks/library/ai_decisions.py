"""Models that decide where a value goes (SPEC §15): AI Condition (a yes/no branch on a
condition in plain language), AI Classifier (one of a list of labels, with a pin per label)
and AI List Generator (a list, whole and item by item).

Each asks for a short, checkable answer; an answer that does not fit is sent back once to be
fixed (that second call is charged again through `context.meter`), then the node fails with
what the model said.
"""

import builtins
import json
from collections.abc import Callable, Iterator
from typing import Any

from apps.graphs.blocks import llm
from apps.graphs.blocks.base import BlockOutput, BlockSchema, SchemaField
from apps.graphs.blocks.context import BlockContext, ChargeRefused
from apps.graphs.blocks.library.ai import _LlmBlock, _model_field, _timeout_field

ATTEMPTS = 2  # the answer, and one correction


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


class _DecisionBlock(_LlmBlock):
    """Ask, check the answer with `parse` (ValueError: why it does not fit), ask again once."""

    def _decide(
        self,
        context: BlockContext,
        input_data: Any,
        prompt: str,
        parse: Callable[[str], Any],
    ) -> Any:
        client = self._client(context, input_data.timeout)
        messages = self._messages("", prompt)
        problem = ""
        for attempt in range(ATTEMPTS):
            if attempt and context.meter is not None:
                context.meter.charge_again(f"retry:{attempt}")
            reply = client.complete(messages, model=input_data.model)
            self._count(context, reply, retry=attempt > 0)
            try:
                return parse(reply.text)
            except ValueError as exc:
                problem = str(exc)
            messages = [
                *messages,
                {"role": "assistant", "content": reply.text},
                {"role": "user", "content": f"That answer does not fit: {problem}. Answer again."},
            ]
        raise llm.LlmError(f"The model gave no usable answer in {ATTEMPTS} attempts: {problem}.")

    def _run_deciding(
        self, context: BlockContext, decide: Callable[[], Iterator[tuple[str, Any]]]
    ) -> Iterator[tuple[str, Any]]:
        try:
            yield from decide()
        except (llm.LlmError, ChargeRefused) as exc:
            yield "error", str(exc)


def _yes_no(text: str) -> bool:
    word = text.strip().strip(".!\"'`*").split()[0].lower() if text.strip() else ""
    word = word.strip(".,!\"'`*")
    if word in ("yes", "true"):
        return True
    if word in ("no", "false"):
        return False
    raise ValueError(f"expected yes or no, got {text.strip()[:100]!r}")


class AIConditionBlock(_DecisionBlock):
    id = "a7c3e1d2-4b5f-4e8a-9c0d-2f6b8e1a3c57"
    name = "AI Condition"
    description = (
        "Asks a language model whether `value` meets a condition written in plain language: "
        "`yes_output` or `no_output` (with `yes_value` / `no_value`, or the value itself)."
    )

    class Input(BlockSchema):
        value: Any = SchemaField(description="What the condition is about.")
        condition: str = SchemaField(
            description="The condition, in plain language.",
            placeholder="the message is a complaint",
        )
        yes_value: Any = SchemaField(None, description="Sent on yes_output (default: value).")
        no_value: Any = SchemaField(None, description="Sent on no_output (default: value).")
        model: str = _model_field()
        timeout: float = _timeout_field()

    class Output(BlockOutput):
        result: bool = SchemaField(description="Whether the condition holds.")
        yes_output: Any = SchemaField(description="When it holds.")
        no_output: Any = SchemaField(description="When it does not.")

    test_input = {"value": "My order never came!", "condition": "REPLY: yes"}
    test_output = [("result", True), ("yes_output", "My order never came!")]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        prompt = (
            "Does the value meet the condition? Answer with one word: yes or no.\n"
            f"Condition:\n{input_data.condition}\nValue:\n{_shown(input_data.value)}"
        )

        def decide() -> Iterator[tuple[str, Any]]:
            holds = self._decide(context, input_data, prompt, _yes_no)
            yield "result", holds
            if holds:
                chosen = input_data.yes_value
                yield "yes_output", input_data.value if chosen is None else chosen
            else:
                chosen = input_data.no_value
                yield "no_output", input_data.value if chosen is None else chosen

        yield from self._run_deciding(context, decide)


class AIClassifierBlock(_DecisionBlock):
    id = "b8d4f2e3-5c6a-4f9b-8d1e-3a7c9f2b4d68"
    name = "AI Classifier"
    description = (
        "Asks a language model which of `labels` fits `value`: `label` is its choice, and "
        "`matched` carries {label: value}, so a link from `matched_#_<label>` is a pin per label."
    )

    class Input(BlockSchema):
        value: Any = SchemaField(description="What to classify.")
        labels: list[str] = SchemaField(
            description="The labels to choose from.", min_length=1, max_length=50
        )
        instructions: str = SchemaField("", description="How to choose, if it needs saying.")
        model: str = _model_field()
        timeout: float = _timeout_field()

    class Output(BlockOutput):
        label: str = SchemaField(description="The label chosen.")
        matched: dict[str, Any] = SchemaField(
            description="{label: value}: link `matched_#_<label>` for that label's branch."
        )

    test_input = {"value": "REPLY: billing", "labels": ["billing", "shipping", "other"]}
    test_output = [("label", "billing"), ("matched", {"billing": "REPLY: billing"})]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        labels = list(dict.fromkeys(input_data.labels))
        by_text = {label.strip().lower(): label for label in labels}

        def parse(text: str) -> str:
            answer = text.strip().strip(".\"'`*").strip().lower()
            if answer in by_text:
                return by_text[answer]
            raise ValueError(f"answer with exactly one of {labels}, not {text.strip()[:100]!r}")

        prompt = (
            "Classify the value. Answer with exactly one of these labels and nothing else: "
            f"{', '.join(labels)}.\n{input_data.instructions}\n"
            f"Value:\n{_shown(input_data.value)}"
        )

        def decide() -> Iterator[tuple[str, Any]]:
            label = self._decide(context, input_data, prompt, parse)
            yield "label", label
            yield "matched", {label: input_data.value}

        yield from self._run_deciding(context, decide)


def _json_list(text: str) -> list[Any]:
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.strip("`").removeprefix("json").strip()
    try:
        value = json.loads(stripped)
    except ValueError:
        start, end = stripped.find("["), stripped.rfind("]")
        if not 0 <= start < end:
            raise ValueError("the answer holds no JSON list") from None
        try:
            value = json.loads(stripped[start : end + 1])
        except ValueError as exc:
            raise ValueError(f"the list is not valid JSON ({exc})") from None
    if not isinstance(value, list):
        raise ValueError("the answer is JSON but not a list")
    return value


class AIListGeneratorBlock(_DecisionBlock):
    id = "c9e5a3f4-6d7b-4a0c-9e2f-4b8d0a3c5e79"
    name = "AI List Generator"
    description = (
        "Asks a language model for a list: `list` is the whole list, and `item` yields each "
        "element on its own (downstream nodes run once per item)."
    )

    class Input(BlockSchema):
        prompt: str = SchemaField(description="What to list.", placeholder="Ten city names")
        max_items: int | None = SchemaField(
            None, ge=1, le=1000, description="Keep at most this many items."
        )
        model: str = _model_field()
        timeout: float = _timeout_field()

    class Output(BlockOutput):
        # builtins.list: the pin's name would shadow the type in this class body
        list: builtins.list[Any] = SchemaField(description="The whole list.")
        item: Any = SchemaField(description="Each element, one by one.")

    test_input = {"prompt": 'REPLY: ["Paris", "Rome"]'}
    test_output = [("list", ["Paris", "Rome"]), ("item", "Paris"), ("item", "Rome")]

    def run(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        prompt = f"Answer with a JSON list only (no prose), for this request:\n{input_data.prompt}"

        def decide() -> Iterator[tuple[str, Any]]:
            items = self._decide(context, input_data, prompt, _json_list)
            if input_data.max_items is not None:
                items = items[: input_data.max_items]
            yield "list", items
            for item in items:
                yield "item", item

        yield from self._run_deciding(context, decide)
